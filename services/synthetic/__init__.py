"""The synthetic county: made-up families living in a county modelled on Essex, and the partner
records their lives would leave, written in each partner's own format.

hubnet may never see real family data in development, demos or tests, so every demo (`make run`),
end-to-end test, benchmark and identity-matching score runs on what `hubnet generate` writes here.
See docs/synthetic-county.md for the output layout and the ground-truth file.
"""
