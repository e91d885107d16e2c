//! Webhook ingest after the server has checked the signature and mapped the payload: source
//! identities (`slack:U074VRHQ11T`) become Basis people where a person has claimed them; the
//! others stay as they are — stub subjects with no account, so contract- and consent-based uses
//! are denied for them by the gate.

use basis_core::person::SOURCES;
use basis_store::{AppendOutcome, HookSettings};
use serde_json::{Value, json};

use crate::ingest::{BatchError, parse_batch};
use crate::{Actor, Engine, EngineError};

impl Engine {
    /// Sets a workspace's webhook secret for a source (and Trello's callback URL).
    ///
    /// # Errors
    /// An unknown source, a secret shorter than 16 bytes, store failure.
    pub async fn set_hook(
        &self,
        actor: &Actor<'_>,
        source: &str,
        secret: &str,
        callback_url: Option<&str>,
    ) -> Result<(), EngineError> {
        if !SOURCES.contains(&source) || source == "email" {
            return Err(EngineError::invalid(
                "source",
                format!("`{source}` is not one of jira, confluence, trello, github, slack"),
            ));
        }
        if secret.len() < 16 || secret.len() > 512 {
            return Err(EngineError::invalid("secret", "between 16 and 512 bytes"));
        }
        if source == "trello" && callback_url.is_none() {
            return Err(EngineError::invalid(
                "callback_url",
                "Trello signs the callback URL: give the URL registered with Trello",
            ));
        }
        self.store()
            .set_hook(actor.tenant, source, secret, callback_url)
            .await?;
        // The old secret stops working now, not when its cache entry expires.
        self.inner.hook_cache.forget();
        self.record_audit(actor, None, "hook.configured", json!({ "source": source }))
            .await?;
        Ok(())
    }

    /// A workspace's webhook settings.
    ///
    /// # Errors
    /// Store failure.
    pub async fn hook_settings(
        &self,
        tenant: &str,
        source: &str,
    ) -> Result<Option<HookSettings>, EngineError> {
        let key = (tenant.to_owned(), source.to_owned());
        if let Some(found) = self.inner.hook_cache.get(&key) {
            return Ok(found);
        }
        let epoch = self.inner.hook_cache.epoch();
        let found = self.store().hook(tenant, source).await?;
        self.inner.hook_cache.put(key, found.clone(), epoch);
        Ok(found)
    }

    /// Forgets cached identity resolutions (after any change to people).
    pub(crate) fn forget_identities(&self) {
        self.inner.identity_cache.forget();
    }

    async fn person_for_identity(
        &self,
        tenant: &str,
        reference: &str,
        source: &str,
        external: &str,
    ) -> Result<Option<String>, EngineError> {
        let key = (tenant.to_owned(), reference.to_owned());
        if let Some(found) = self.inner.identity_cache.get(&key) {
            return Ok(found);
        }
        let epoch = self.inner.identity_cache.epoch();
        let found = self
            .store()
            .person_by_identity(tenant, source, external)
            .await?;
        self.inner.identity_cache.put(key, found.clone(), epoch);
        Ok(found)
    }

    /// Resolves source identities to people and ingests mapped events (idempotent on their ids).
    ///
    /// # Errors
    /// A mapped event that does not validate (a connector bug, reported, nothing stored); store
    /// failure.
    pub async fn ingest_mapped(
        &self,
        tenant: &str,
        mut events: Vec<Value>,
    ) -> Result<AppendOutcome, EngineError> {
        for event in &mut events {
            for key in ["actor", "assignee", "member"] {
                if let Some(v) = event.get_mut(key) {
                    self.resolve(tenant, v).await?;
                }
            }
            if let Some(Value::Array(people)) = event.get_mut("mentions") {
                for v in people {
                    self.resolve(tenant, v).await?;
                }
            }
        }
        // The same validation as any other batch.
        let text = serde_json::to_string(&events)
            .map_err(|e| EngineError::invalid("event", e.to_string()))?;
        let batch = parse_batch(&text, false).map_err(|e| match e {
            BatchError::Invalid(errors) => EngineError::Invalid(errors),
            other => EngineError::invalid("event", other.to_string()),
        })?;
        self.ingest(tenant, batch).await
    }

    async fn resolve(&self, tenant: &str, v: &mut Value) -> Result<(), EngineError> {
        let Some(reference) = v.as_str() else {
            return Ok(());
        };
        let Some((source, external)) = reference.split_once(':') else {
            return Ok(());
        };
        if !SOURCES.contains(&source) {
            return Ok(());
        }
        let person = self
            .person_for_identity(tenant, reference, source, external)
            .await?;
        if let Some(p) = person {
            *v = Value::String(p);
        }
        Ok(())
    }
}
