"""SQL storage of the gateway: models, engine, migrations."""
