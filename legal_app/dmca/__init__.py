"""DMCA notice-and-takedown (17 U.S.C. §512): notices, takedowns, counter-notices, reports."""
