"""Keep the ML stack off the network. Imported first by the package, before any heavy import."""

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
    """Force the offline block: a hub id without HF_HUB_OFFLINE burns a minute in retries."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
