"""Licence windows: a scheduled job publishes and unpublishes films at their edges."""
