"""Keep the ML stack off the network: the one place that sets the offline environment.

Called by the entry points (the CLI's main, the page's launcher, the HTTP app factory) and by every
AnswerEngine before it loads a model or opens a store, so a library user's `assistant.ask()` is
offline-safe too. Importing the package sets nothing."""

import os

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    # Tokenizer worker threads fight with torch's on a 2-core machine and warn after fork.
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_env() -> None:
    """Force the offline block (idempotent): a hub id without HF_HUB_OFFLINE burns a minute in retries.
    Must run before huggingface_hub, transformers, chromadb or gradio is first imported: they read it then."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
