"""The consent domain: who consented, to whom, by whose authority, and when hubnet received it.

Read alike by the timeline's access policy and the referral consent gate (DESIGN.md).
"""
