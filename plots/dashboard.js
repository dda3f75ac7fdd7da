// dashboard.js: sortable tables for the static dashboard (joulebench
// report). Click a header to sort by that column; numeric cells carry their
// raw value in data-v so that 1e-3 sorts below 2e-3. Inlined in each page.
(function () {
  'use strict';
  function key(td) {
    var v = td.getAttribute('data-v');
    if (v !== null && v !== '') { return parseFloat(v); }
    return td.textContent.trim().toLowerCase();
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (typeof x === 'number' && typeof y === 'number') { return dir * (x - y); }
      return dir * String(x).localeCompare(String(y));
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    Array.prototype.forEach.call(head.cells, function (th, i) {
      th.addEventListener('click', function () { sortBy(table, i, th); });
    });
    table.setAttribute('data-sortable', 'ready');
  });
  // Layout check, read back by the headless-browser test: the latest figure
  // of each configuration, its uncertainty and source, must be visible
  // without scrolling sideways.
  var cfg = document.getElementById('configs');
  if (cfg) {
    var fits = cfg.getBoundingClientRect().right <= document.documentElement.clientWidth + 1;
    cfg.setAttribute('data-fits', fits ? 'yes' : 'no');
  }
}());
