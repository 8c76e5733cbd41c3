"""The web page: a Gradio chat over the assistant library.

`ui` only renders and calls the library (nothing in `assistant/` imports gradio). Importing this
package is cheap: gradio loads only when the app is built (`ui.app`) or served (`ui.server.serve`).

    python -m ui                      # http://127.0.0.1:7860, bundled corpus
    python -m ui --host 0.0.0.0       # needs ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD
"""

from ui.errors import UIConfigError

__all__ = ["UIConfigError"]
