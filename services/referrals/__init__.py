"""Referral routing across the hub network: the hub network model, the pure router, consent gate,
lifecycle, SLA timers, the referral store, BaRS-shaped messages on fh.referrals, the stream worker
and the inbox API. See docs/referrals.md."""
