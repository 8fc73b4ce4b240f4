"""The demo business: a seeded simulator of an app company's channels, app and content."""
