"""BreakingOn: a self-hosted news desk that clusters articles into cited story briefs."""

__version__ = "0.1.0"
