"""Admin of the content app."""
