"""Settings, logging and security primitives of the gateway."""
