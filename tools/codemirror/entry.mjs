// What the model editor uses of CodeMirror 6, as one global (window.SynclineCodeMirror): the view and state,
// the SQL language with its dialects, history, brackets and completion. static/js/model_editor.js builds
// the editor from these; nothing else is exported, so esbuild leaves the rest out of the bundle.
export { EditorState, Compartment } from "@codemirror/state";
export {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  drawSelection,
  placeholder,
} from "@codemirror/view";
export { history, defaultKeymap, historyKeymap } from "@codemirror/commands";
export {
  syntaxHighlighting,
  defaultHighlightStyle,
  bracketMatching,
  indentOnInput,
} from "@codemirror/language";
export { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
export { sql, PostgreSQL, MySQL, MariaSQL, StandardSQL, SQLite } from "@codemirror/lang-sql";
