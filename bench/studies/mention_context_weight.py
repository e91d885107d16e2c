#!/usr/bin/env python3
"""How much a context participant should count in @mention ranking (issue 4).

A replica of Basis's ranking on the Enron recipient-prediction protocol (`basis eval mentions`):
interactions decayed with a 3-day half-life, received ones at 0.3, a 30-minute burst term, the
affinity relative to the sender's strongest tie, and the thread (the subject without Re:/Fw:) as
the context. It has no retention bound and no gate (the eval allows everyone) and counts every
earlier participant of a thread, nor the product's floor under the scale (one interaction a
month old); without a context it reproduces `basis eval mentions` (MRR 0.6742 on the test part,
0.6643 on validation), with the thread it comes within 0.001 of it (0.6992 against 0.69999 at
weight 0.95; validation 0.6866 against 0.6868). A second table adds a shared department (the long department name, the
nearest thing to a team in the data) as a boost, without a context.

The weight is chosen on a validation slice inside the training part: replay messages 0-60%,
rank 60-80%. The test part (80-100%) is printed beside it only to report, never to choose.

    python3 bench/studies/mention_context_weight.py ../shared/data/enron
"""

import collections
import math
import re
import sys

DIR = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/enron"
HALF_LIFE = 3 * 86400
LAMBDA = math.log(2) / HALF_LIFE
INBOUND, BURST, BURST_SECONDS = 0.3, 6.0, 1800.0
DEPARTMENTS = {}


def load():
    messages = []
    with open(f"{DIR}/messages.tsv") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            messages.append((int(p[0]), int(p[2]), p[3], int(p[4])))
    recipients = collections.defaultdict(list)
    with open(f"{DIR}/recipients.tsv") as f:
        for line in f:
            m, _, r = map(int, line.split())
            recipients[m].append(r)
    with open(f"{DIR}/employees.tsv") as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    people = [int(r[0]) for r in rows]
    DEPARTMENTS.update((int(r[0]), r[3]) for r in rows)
    messages.sort(key=lambda m: (m[1], m[0]))
    return messages, recipients, people


def thread(subject):
    s = subject.strip().lower()
    while True:
        t = re.sub(r"^(re|fw|fwd)\s*:\s*", "", s)
        if t == s:
            return s.strip()
        s = t


def mrr(messages, recipients, people, weight, lo, hi, with_thread=True, department=0.0):
    ties = {}  # (a, b) -> (decayed sum at t0, t0, last contact)
    threads = collections.defaultdict(set)

    def add(a, b, t, w):
        v, t0, _ = ties.get((a, b), (0.0, t, t))
        ties[(a, b)] = (v * math.exp(-LAMBDA * (t - t0)) + w, t, t)

    def learn(m):
        i, t, subject, sender = m
        rs = [r for r in recipients[i] if r != sender]
        for r in rs:
            add(sender, r, t, 1.0)
            add(r, sender, t, INBOUND)
        if thread(subject):
            threads[thread(subject)].update([sender, *rs])

    start, end = int(len(messages) * lo), int(len(messages) * hi)
    for m in messages[:start]:
        learn(m)
    total, count = 0.0, 0
    for m in messages[start:end]:
        i, t, subject, sender = m
        truth = {r for r in recipients[i] if r != sender}
        if truth:
            count += 1
            context = threads.get(thread(subject), set()) if with_thread else set()

            def raw(p):
                v, t0, last = ties.get((sender, p), (0.0, t, None))
                burst = BURST * math.exp(-(t - last) / BURST_SECONDS) if last else 0.0
                return v * math.exp(-LAMBDA * (t - t0)) + burst

            affinity = {p: raw(p) for p in people if p != sender}
            strongest = max(affinity.values()) or 1.0
            score = {
                p: a / strongest
                + (weight if p in context else 0.0)
                + (department if DEPARTMENTS[p] == DEPARTMENTS[sender] else 0.0)
                for p, a in affinity.items()
            }
            ranked = sorted(score, key=lambda p: (-score[p], p))
            total += next(1 / (k + 1) for k, p in enumerate(ranked) if p in truth)
        learn(m)
    return total / count


def main():
    messages, recipients, people = load()
    print(f"no context: validation {mrr(messages, recipients, people, 0, 0.6, 0.8, False):.4f}, "
          f"test {mrr(messages, recipients, people, 0, 0.8, 1.0, False):.4f}")
    for weight in [0.5, 0.75, 0.9, 0.93, 0.95, 0.97, 0.99, 1.0, 1.5, 2.0]:
        val = mrr(messages, recipients, people, weight, 0.6, 0.8)
        test = mrr(messages, recipients, people, weight, 0.8, 1.0)
        print(f"thread as context, participant weight {weight:4}: validation {val:.4f}, test {test:.4f}")
    for department in [0.01, 0.05, 0.1, 0.25]:
        val = mrr(messages, recipients, people, 0, 0.6, 0.8, False, department)
        test = mrr(messages, recipients, people, 0, 0.8, 1.0, False, department)
        print(f"no context, shared department {department:4}: validation {val:.4f}, test {test:.4f}")


if __name__ == "__main__":
    main()
