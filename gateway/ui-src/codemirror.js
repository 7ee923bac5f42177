// The parts of CodeMirror 6 the New function page uses, bundled by
// gateway/build.mjs into /ui/vendor/codemirror.js (no CDN: the UI's
// Content-Security-Policy allows its own scripts only).
export { EditorView, basicSetup } from 'codemirror';
export { EditorState, StateEffect, StateField } from '@codemirror/state';
export { Decoration, keymap } from '@codemirror/view';
export { javascript } from '@codemirror/lang-javascript';
export { python } from '@codemirror/lang-python';
export { json } from '@codemirror/lang-json';
export { StreamLanguage } from '@codemirror/language';
export { shell } from '@codemirror/legacy-modes/mode/shell';
export { dockerFile } from '@codemirror/legacy-modes/mode/dockerfile';
export { setDiagnostics, lintGutter } from '@codemirror/lint';
