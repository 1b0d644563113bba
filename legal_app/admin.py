"""Admin of the legal app."""
