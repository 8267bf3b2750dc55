"""pagecleaner: a self-hosted web-page cleaner (HTML or messy text in, clean article JSON out)."""

__version__ = "0.1.0"
