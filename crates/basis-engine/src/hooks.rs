//! Webhook ingest after the server has checked the signature and mapped the payload: source
//! identities (`slack:U074VRHQ11T`) become Basis people where a person has claimed them; the
//! others stay as they are — stub subjects with no account, so contract- and consent-based uses
//! are denied for them by the gate.

use std::collections::HashMap;

use basis_core::event::validate_event_text;
use basis_core::person::SOURCES;
use basis_store::{AppendOutcome, HookSettings, NewEvent};
use serde_json::{Value, json};

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
        if let Some(found) = self
            .inner
            .hook_cache
            .read()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return Ok(found);
        }
        let found = self.store().hook(tenant, source).await?;
        if let Ok(mut cache) = self.inner.hook_cache.write() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key, found.clone());
        }
        Ok(found)
    }

    /// Forgets cached identity resolutions (after any change to people).
    pub(crate) fn forget_identities(&self) {
        if let Ok(mut cache) = self.inner.identity_cache.write() {
            cache.clear();
        }
    }

    async fn person_for_identity(
        &self,
        tenant: &str,
        reference: &str,
        source: &str,
        external: &str,
    ) -> Result<Option<String>, EngineError> {
        let key = (tenant.to_owned(), reference.to_owned());
        if let Some(found) = self
            .inner
            .identity_cache
            .read()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return Ok(found);
        }
        let found = self
            .store()
            .person_by_identity(tenant, source, external)
            .await?;
        if let Ok(mut cache) = self.inner.identity_cache.write() {
            if cache.len() > 200_000 {
                cache.clear();
            }
            cache.insert(key, found.clone());
        }
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
        let mut known: HashMap<String, Option<String>> = HashMap::new();
        for event in &mut events {
            for key in ["actor", "assignee", "member"] {
                if let Some(v) = event.get_mut(key) {
                    self.resolve(tenant, v, &mut known).await?;
                }
            }
            if let Some(Value::Array(people)) = event.get_mut("mentions") {
                for v in people {
                    self.resolve(tenant, v, &mut known).await?;
                }
            }
        }
        let mut batch = Vec::with_capacity(events.len());
        let mut errors = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let body = event.to_string();
            if let Some(head) = validate_event_text(index, &body, &mut errors) {
                batch.push(NewEvent {
                    id: head.id,
                    kind: head.kind,
                    at: head.at,
                    actor: head.actor,
                    body,
                });
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        self.ingest(tenant, batch).await
    }

    async fn resolve(
        &self,
        tenant: &str,
        v: &mut Value,
        known: &mut HashMap<String, Option<String>>,
    ) -> Result<(), EngineError> {
        let Some(reference) = v.as_str() else {
            return Ok(());
        };
        let Some((source, external)) = reference.split_once(':') else {
            return Ok(());
        };
        if !SOURCES.contains(&source) {
            return Ok(());
        }
        let person = match known.get(reference) {
            Some(p) => p.clone(),
            None => {
                let p = self
                    .person_for_identity(tenant, reference, source, external)
                    .await?;
                known.insert(reference.to_owned(), p.clone());
                p
            }
        };
        if let Some(p) = person {
            *v = Value::String(p);
        }
        Ok(())
    }
}
