"""Alerts: which story events fire which reader's rules, and what each channel sends.

Pure: no store, no sockets, no environment. `model` holds the records (rules, follows,
story changes, events, messages); `rules` decides which events a changed story fires
for which rule (a story flagged breaking, a new story in a followed section, place,
outlet or search, a followed story's brief revised), each with a stable event key so
an event is queued once per rule; `message` turns an event into the text a reader
gets; the channel modules build what is sent: `webhook` (signed JSON), `ntfy`
(ntfy-compatible push), `webpush` (Web Push: VAPID and aes128gcm, through pywebpush),
`digest` (the email digest, a MIME message with a text and an HTML part). The sending
itself (the crawler's `Fetcher` under the SSRF policy, `crawl.smtp`) and the outbox are
the pipeline's alert stage (`breakingon.pipeline.alert_stage`).
"""
