// The console's core: the session, API calls, the router and small DOM
// helpers. Pages (pages.js) register with kz.page(name, render). Nothing
// here builds HTML from strings: data only ever becomes text nodes.
'use strict';

const kz = (() => {
  const pages = {};
  let session = null;  // {user, csrf_token}
  let renderGeneration = 0;
  let streams = [];  // the current page's live streams, closed when it is left

  // el('a', {href: '#/x', class: 'y'}, 'text', child…)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // fetch with the session's cookie and, on changes, its CSRF token.
  // Resolves to {status, body} (body parsed when JSON); never throws on HTTP errors.
  async function api(method, path, body, contentType) {
    const headers = {'X-Kizuna-Console': '1'};
    if (method !== 'GET' && session && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string') {
        payload = body;
        headers['Content-Type'] = contentType || 'text/plain';
      } else {
        payload = JSON.stringify(body);
        headers['Content-Type'] = contentType || 'application/json';
      }
    }
    if (path.startsWith('/taxii2/')) headers['Accept'] = 'application/taxii+json;version=2.1';
    const response = await fetch(path, {method, headers, body: payload, credentials: 'same-origin'});
    const text = await response.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    if (response.status === 401 && session) {
      session = null;
      route();
    }
    return {status: response.status, body: parsed};
  }

  function errorText(result) {
    const b = result.body;
    if (b && typeof b === 'object') return (b.title || 'Error') + (b.description ? ': ' + b.description : '');
    return 'HTTP ' + result.status;
  }

  function tlpBadge(tlp) {
    const name = tlp ? tlp.toUpperCase() : 'NONE';
    return el('span', {class: 'tlp tlp-' + (tlp || 'none').replace('+', '-')}, 'TLP:' + name);
  }

  function when(timestamp) {
    return timestamp ? timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
  }

  function objectLink(id, text) {
    return el('a', {href: '#/object/' + encodeURIComponent(id)}, text || id);
  }

  function table(headings, rows) {
    return el('table', {},
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell) => el('td', {}, cell))))));
  }

  function message(text, kind) {
    return el('p', {class: 'message ' + (kind || ''), role: kind === 'error' ? 'alert' : 'status'}, text);
  }

  function page(name, render) { pages[name] = render; }

  // New versions in a collection (id or alias) as they are stored, over the
  // node's live stream (/api/v1/collections/{id}/stream, with the session's
  // cookie: the same reader scope as TAXII). Calls onObjects(objects) for
  // each event; the stream ends when the page is left.
  function live(collection, onObjects) {
    const source = new EventSource('/api/v1/collections/' + encodeURIComponent(collection) + '/stream');
    source.addEventListener('objects', (event) => {
      try {
        onObjects(JSON.parse(event.data).objects || []);
      } catch (e) { /* a malformed event is skipped */ }
    });
    streams.push(source);
    const indicator = document.getElementById('live');
    if (indicator) {
      source.addEventListener('open', () => { indicator.textContent = '● live'; indicator.hidden = false; });
      source.addEventListener('error', () => { indicator.textContent = '○ reconnecting'; });
    }
    return source;
  }

  // "#/object/indicator--x?tab=y" -> {name: 'object', arg: 'indicator--x', params}
  function parseHash() {
    const hash = location.hash.replace(/^#\/?/, '');
    const [path, query] = hash.split('?');
    const [name, ...rest] = path.split('/');
    let arg = rest.join('/');
    try { arg = decodeURIComponent(arg); } catch (e) { /* a malformed escape stays as typed */ }
    return {name: name || 'dashboard', arg, params: new URLSearchParams(query || '')};
  }

  async function loadSession() {
    const result = await fetch('/api/v1/console/session',
                               {credentials: 'same-origin', headers: {'X-Kizuna-Console': '1'}});
    session = result.status === 200 ? await result.json() : null;
  }

  function showChrome() {
    const signedIn = !!session;
    document.getElementById('nav').hidden = !signedIn;
    document.getElementById('signout').hidden = !signedIn;
    document.getElementById('who').textContent = signedIn
      ? session.user.name + ' (' + session.user.organization + ', ' + session.user.role + ')' : '';
  }

  async function route() {
    const generation = ++renderGeneration;
    for (const source of streams) source.close();
    streams = [];
    const indicator = document.getElementById('live');
    if (indicator) indicator.hidden = true;
    const main = document.getElementById('main');
    showChrome();
    const target = parseHash();
    const render = session ? (pages[target.name] || pages.notfound) : pages.signin;
    const view = el('div', {class: 'page', dataset: {page: session ? target.name : 'signin'}});
    main.replaceChildren(view);
    try {
      await render(view, target);
    } catch (error) {
      if (generation === renderGeneration) view.append(message('This page failed: ' + error, 'error'));
    }
    // What tests (and screen readers' users) wait for: everything fetched.
    view.dataset.ready = 'true';
    view.setAttribute('aria-busy', 'false');
  }

  async function signIn(apiKey) {
    const result = await api('POST', '/api/v1/console/session', {api_key: apiKey});
    if (result.status !== 200) return errorText(result);
    session = result.body;
    await loadSession();
    route();
    return null;
  }

  async function signOut() {
    await api('DELETE', '/api/v1/console/session');
    session = null;
    location.hash = '#/';
    route();
  }

  async function start() {
    document.getElementById('signout').addEventListener('click', signOut);
    window.addEventListener('hashchange', route);
    await loadSession();
    route();
  }

  return {el, api, errorText, tlpBadge, when, objectLink, table, message, page, signIn, live,
          rerender: () => route(), currentHash: () => location.hash,
          start, session: () => session, navigate: (hash) => { location.hash = hash; }};
})();
