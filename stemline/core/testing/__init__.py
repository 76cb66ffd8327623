"""Helpers for tests: throwaway servers and the like (never imported by the running app)."""
