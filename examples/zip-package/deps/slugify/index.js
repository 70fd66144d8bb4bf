/* global module */
// A tiny CommonJS dependency (a stand-in for a real npm package), installed as node_modules/slugify.
module.exports = function slugify(text) {
  return String(text).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
};
