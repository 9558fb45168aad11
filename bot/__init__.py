"""The Matrix side of rcc-bot: config, CLI, dispatcher, rendering and (later) the client."""
