"""Domain objects to answers, one module per endpoint group (the routes only wire them)."""
