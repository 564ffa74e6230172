export { type Sniffed, sniffUpload } from '../../src/core/sniff.js';
