"""The types and rules every layer shares (errors, event kinds, timestamps, sketches, audience
curves, figures, the rendition ladder, HLS playlists): no I/O, importable from routes, services,
repositories and adapters alike."""
