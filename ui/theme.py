"""The page's look: theme, stylesheet, and two small scripts (clicking a [n] badge opens its source; Copy copies
an answer).

System fonts only: the machine may have no internet, and a web-font request must not stall the page."""

from __future__ import annotations

from typing import Any

SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def make_theme() -> Any:
    import gradio as gr  # lazy for import speed: the CSS and JS strings here are read without gradio

    return gr.themes.Soft(primary_hue="indigo", secondary_hue="slate", neutral_hue="slate",
                          font=SYSTEM_FONTS, font_mono=MONO_FONTS)


CSS = """
.gradio-container { max-width: 1400px !important; width: 100% !important; margin: 0 auto !important; }
footer { display: none !important; }
.app-header { padding: 4px 0 2px; }
.brand { display: flex; align-items: center; gap: 12px; }
.brand-mark { background: var(--color-accent); color: #fff; font-weight: 700; border-radius: 10px;
  padding: 8px 10px; font-size: 15px; letter-spacing: .5px; }
.brand-title { font-size: 20px; font-weight: 650; }
.brand-sub { color: var(--body-text-color-subdued); font-size: 13px; }
.welcome { text-align: center; color: var(--body-text-color-subdued); max-width: 520px; margin: 0 auto; }
.welcome-title { font-size: 18px; font-weight: 600; color: var(--body-text-color); margin-bottom: 6px; }
#chat .q { white-space: normal; }
#chat .ans-text { line-height: 1.6; }
#chat .short-answer { font-size: 1.1em; margin-bottom: 0.35em; }
#chat .cite { color: var(--color-accent); font-weight: 650; cursor: pointer; font-size: .78em; margin-left: 1px; }
#chat .cite:hover { text-decoration: underline; }
#chat .caret { display: inline-block; width: 7px; height: 1em; margin-left: 2px; vertical-align: text-bottom;
  background: var(--color-accent); animation: blink 1s steps(2, start) infinite; }
@keyframes blink { to { visibility: hidden; } }
#chat .thinking { color: var(--body-text-color-subdued); font-style: italic; }
#chat .abstain { border-left: 4px solid #d97706; background: rgba(217, 119, 6, .08); padding: 8px 12px; border-radius: 6px; }
#chat .abstain-head { font-weight: 650; color: #b45309; margin-bottom: 2px; }
#chat .abstain .hint { color: var(--body-text-color-subdued); font-size: .88em; margin-top: 4px; }
#chat .failed { border-left: 4px solid #dc2626; background: rgba(220, 38, 38, .07); padding: 8px 12px; border-radius: 6px; }
#chat .error-head { font-weight: 650; color: #b91c1c; }
#chat .unsupported { text-decoration: underline wavy #dc2626; text-underline-offset: 3px; }
#chat .unsupported .flag { font-size: .7em; font-weight: 650; color: #fff; background: #dc2626; border-radius: 4px;
  padding: 0 4px; margin-left: 4px; vertical-align: middle; text-decoration: none; display: inline-block; }
#chat .warn { color: #b91c1c; font-size: .9em; margin-top: 6px; }
#chat .notes { margin: 6px 0 0; padding-left: 18px; font-size: .9em; color: #92400e; }
#chat .sources { margin-top: 10px; border-top: 1px solid var(--border-color-primary); padding-top: 6px; }
#chat .sources-head { font-size: .78em; text-transform: uppercase; letter-spacing: .4px; color: var(--body-text-color-subdued); margin-bottom: 4px; }
#chat details.src { border: 1px solid var(--border-color-primary); border-radius: 8px; margin: 5px 0; background: var(--background-fill-primary); }
#chat details.src > summary { cursor: pointer; padding: 6px 10px; display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; list-style: none; }
#chat details.src > summary::-webkit-details-marker { display: none; }
#chat details.src > summary::before { content: "▸"; color: var(--body-text-color-subdued); }
#chat details.src[open] > summary::before { content: "▾"; }
#chat details.src .badge { background: var(--color-accent); color: #fff; border-radius: 10px; padding: 0 7px; font-size: .78em; font-weight: 650; }
#chat details.src .src-title { font-weight: 600; flex: 1 1 200px; overflow: hidden; text-overflow: ellipsis; }
#chat details.src .src-meta { font-size: .8em; color: var(--body-text-color-subdued); display: flex; gap: 8px; }
#chat details.src .src-file { font-family: var(--font-mono); }
#chat details.src .support { color: #047857; }
#chat details.src .passage { padding: 8px 12px 10px; font-size: .9em; line-height: 1.55; border-top: 1px dashed var(--border-color-primary);
  max-height: 260px; overflow-y: auto; }
#chat mark.span { background: #fde68a; color: #1f2937; padding: 1px 2px; border-radius: 3px; box-shadow: 0 0 0 1px #f59e0b; }
#chat .not-verbatim { font-size: .8em; color: #92400e; padding: 0 12px 8px; }
#chat .meta { font-size: .75em; color: var(--body-text-color-subdued); margin-top: 6px; }
#chat .meta .confidence { color: inherit; }
#chat details.rewritten { font-size: .75em; color: var(--body-text-color-subdued); margin-top: 2px; }
#chat details.rewritten > summary { cursor: pointer; width: fit-content; }
#chat details.rewritten .searched { padding: 2px 0 0 14px; }
.ask-row { align-items: stretch; }
.notice { border-radius: 8px; padding: 8px 12px; margin: 4px 0; font-size: 14px; }
.notice-error { background: rgba(220, 38, 38, .08); color: #b91c1c; border: 1px solid rgba(220, 38, 38, .35); }
.notice-info { background: rgba(79, 70, 229, .07); color: var(--body-text-color); border: 1px solid rgba(79, 70, 229, .25); }
.notice-ok { background: rgba(5, 150, 105, .08); color: #047857; border: 1px solid rgba(5, 150, 105, .35); }
.corpus table { width: 100%; border-collapse: collapse; font-size: 14px; margin: 0 !important; }
.corpus table, .corpus tr, .corpus th, .corpus td { border: none !important; background: transparent !important; }
.corpus tr + tr { border-top: 1px solid var(--border-color-primary) !important; }
.corpus th { width: 38%; text-align: left; font-weight: 500; color: var(--body-text-color-subdued); padding: 3px 8px 3px 0; white-space: nowrap; vertical-align: top; }
.corpus td { padding: 3px 0; word-break: break-all; }
.corpus .doc-list summary { cursor: pointer; font-size: 13px; color: var(--color-accent); margin-top: 6px; }
.corpus .doc-list ul { padding-left: 16px; margin: 4px 0; max-height: 220px; overflow-y: auto; }
.corpus .doc-list li { font-size: 13px; margin-bottom: 4px; }
.corpus .doc-title { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.corpus .doc-meta { display: block; color: var(--body-text-color-subdued); font-size: 12px; word-break: break-all; }
.progress { height: 6px; background: var(--border-color-primary); border-radius: 3px; overflow: hidden; margin: 6px 0 4px; }
.progress-bar { height: 100%; background: var(--color-accent); transition: width .3s; }
.progress-text { font-size: 13px; color: var(--body-text-color-subdued); }
.upload-summary { font-size: 13px; color: var(--body-text-color-subdued); margin-top: 4px; }
.docs-head { font-size: 13px; color: var(--body-text-color-subdued); margin: 2px 0 4px; }
.docs-collection { font-family: var(--font-mono); color: var(--body-text-color); }
.docs-empty { font-size: 13px; color: var(--body-text-color-subdued); font-style: italic; }
.doc-rows { list-style: none; padding: 0 !important; margin: 0 !important; max-height: 260px; overflow-y: auto; }
.doc-row { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 0 0 6px !important;
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 8px; font-size: 13px; }
.doc-row .doc-name { font-family: var(--font-mono); font-weight: 600; flex: 1 1 160px; word-break: break-all; }
.doc-row .doc-facts { flex: 1 0 100%; color: var(--body-text-color-subdued); font-size: 12px; }
.doc-badge.quarantined { flex: 1 0 100%; font-size: 12px; color: #92400e; background: rgba(217, 119, 6, .1);
  border: 1px solid rgba(217, 119, 6, .4); border-radius: 6px; padding: 1px 6px; word-break: break-word; }
.doc-state { font-size: 12px; font-weight: 650; border-radius: 10px; padding: 0 8px; white-space: nowrap; }
.doc-row.confirming { border-color: #dc2626; background: rgba(220, 38, 38, .05); }
.doc-state.confirming { color: #b91c1c; background: rgba(220, 38, 38, .1); }
.doc-row.deleting { border-color: #dc2626; background: rgba(220, 38, 38, .07); opacity: .85; }
.doc-row.deleting .doc-name { text-decoration: line-through; text-decoration-color: rgba(220, 38, 38, .6); }
.doc-state.deleting { color: #fff; background: #dc2626; display: inline-flex; align-items: center; gap: 5px; }
.doc-state .spinner { width: 9px; height: 9px; border: 2px solid rgba(255, 255, 255, .45); border-top-color: #fff;
  border-radius: 50%; animation: spin .8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.docs-progress { margin-top: 2px; }
.doc-actions { gap: 6px; }
/* Steady widths: the columns share the row by their scale only (flex-basis 0), never by the width of their
   content, so the chat column keeps its width when the first answer arrives. */
.main-row > #chat-column { flex: 7 1 0% !important; min-width: min(420px, 100%) !important; }
.main-row > #side-column { flex: 4 1 0% !important; min-width: min(320px, 100%) !important; }
/* Side padding: Gradio's 32 px on a wide screen, down to 10 px on a phone (outside @media: Gradio scopes rules
   inside one to the page's content, which this outer element is not part of). */
.main.fillable.app { padding-left: clamp(10px, 4vw - 6px, 32px) !important;
  padding-right: clamp(10px, 4vw - 6px, 32px) !important; }
/* The header stays one line: the title shrinks (ellipsis) before the button wraps under it. */
.app-header { flex-wrap: nowrap !important; align-items: center !important; }
.app-header > :first-child { flex: 1 1 0% !important; min-width: 0 !important; }
.brand > div { min-width: 0; }
.brand-title, .brand-sub { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#new-conversation { flex: 0 0 auto !important; }
@media (max-width: 640px) {  /* a phone: the whole title on one line beside a small button */
  .app-header { gap: 8px !important; }
  .app-header .html-container { padding-left: 0 !important; padding-right: 0 !important; }
  .brand-mark, .brand-sub { display: none; }  /* the words matter more than the logo at 390 px */
  .brand-title { font-size: 15px; }
  #new-conversation { min-width: 0 !important; width: auto !important; font-size: 12px !important;
    padding: 4px 8px !important; }
  /* The question box is two lines tall from the start, so its placeholder (two lines at phone width) is whole and
     the Ask button as tall as once Gradio has resized the box (which it does only when its value changes). */
  #question textarea { min-height: calc(2.8em + 20px) !important; min-height: calc(2lh + 20px) !important; }
}
.chat-actions { gap: 6px; justify-content: flex-end; }
.chat-delete, .chat-exports { gap: 6px; }
.chat-delete > button, .chat-exports > button { flex: 0 0 auto !important; min-width: 0 !important; }
.chat-actions > button { flex: 0 0 auto !important; min-width: 0 !important; }
#chat .ans-actions { margin-top: 6px; display: flex; justify-content: flex-end; }
#chat .copy-answer { font-size: 12px; padding: 1px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color-subdued); }
#chat .copy-answer:hover { color: var(--color-accent); border-color: var(--color-accent); }
/* Rating and Copy are for a finished answer only: an answer still streaming (or stopped, or failed: never kept, so
   never drawn with a Copy button) shows no thumbs. The thumbs are the message row's next sibling in Gradio's chat. */
#chat .message-row:has(.ans):not(:has(.copy-answer)) + .message-buttons { display: none !important; }
/* Gradio's "scroll to the latest message" arrow: at the chat's right edge, in the 40 px the answers leave free there,
   not in the middle of them (it covered a source's title on a phone). 24 px in, it clears a desktop scrollbar and
   covers at most an answer's right padding; on a phone (no scrollbar) it moves fully into the gap (below). */
#chat .scroll-down-button-container { left: auto !important; right: 24px !important; transform: none !important; }
@media (max-width: 640px) { #chat .scroll-down-button-container { right: 8px !important; } }
#chat .stopped { border-left: 4px solid #64748b; padding: 4px 12px; }
#chat .stopped-head { font-size: .8em; font-weight: 650; color: #475569; margin-bottom: 2px; }
"""

# After an upload: its result (right under the upload control) is scrolled into view, with the least scrolling, so
# that it never lands below the fold of a page scrolled just far enough to show the control.
SHOW_UPLOAD_STATUS_JS = """() => {
  const status = document.getElementById('upload-status');
  if (status) status.scrollIntoView({block: 'nearest'});
}"""

# Clicking a [n] badge in an answer opens (and scrolls to) source n of that same answer.
HEAD_JS = """<script>
document.addEventListener('click', function (event) {
  var badge = event.target.closest ? event.target.closest('#chat .cite') : null;
  if (!badge) return;
  var match = /cite-(\\d+)/.exec(badge.className);
  var answer = badge.closest('.ans');
  if (!match || !answer) return;
  var source = answer.querySelector('details.src-' + match[1]);
  if (!source) return;
  source.open = true;
  source.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
/* Copy on a finished answer: its text with the [n] markers, without the "unsupported" flags. The copied text is
   also kept in #copied-answer (hidden) so that a page without clipboard access still shows what was copied.
   (Block comments only: the page's head may be joined into one line.) */
document.addEventListener('click', function (event) {
  var button = event.target.closest ? event.target.closest('#chat .copy-answer') : null;
  if (!button) return;
  var body = button.closest('.ans') ? button.closest('.ans').querySelector('.ans-text') : null;
  if (!body) return;
  var clone = body.cloneNode(true);
  clone.querySelectorAll('.flag').forEach(function (flag) { flag.remove(); });
  clone.querySelectorAll('br').forEach(function (br) { br.replaceWith('\\n'); });
  var text = clone.textContent.trim();
  var kept = document.getElementById('copied-answer');
  if (!kept) {
    kept = document.createElement('textarea');
    kept.id = 'copied-answer';
    kept.setAttribute('aria-hidden', 'true');
    kept.tabIndex = -1;
    kept.style.cssText = 'position:fixed;left:-9999px;top:0;opacity:0;';
    document.body.appendChild(kept);
  }
  kept.value = text;
  function said(ok) {
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(function () { button.textContent = 'Copy'; }, 1500);
  }
  function legacy() {  /* no async clipboard (plain http on another host): the old selection-based copy */
    kept.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
    said(ok);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { said(true); }, legacy);
  } else {
    legacy();
  }
});
</script>"""
