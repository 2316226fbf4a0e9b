// The console's pages. Each renders into `view` from the REST API and TAXII,
// as the signed-in user: what the API refuses this user, the page says so.
'use strict';

(() => {
  const {el, api, errorText, tlpBadge, when, objectLink, table, message, page} = kz;
  const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'];
  const TLP_MARKINGS = {
    clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
    green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
    amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
    'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
    red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
  };
  const TLP_COLOURS = {clear: '#9aa4ad', green: '#33aa00', amber: '#ffc000', 'amber+strict': '#e08e00', red: '#ff2b2b'};

  async function apiRoot() {
    const discovery = await api('GET', '/taxii2/');
    if (discovery.status !== 200) throw new Error(errorText(discovery));
    const root = discovery.body.default || (discovery.body.api_roots || [])[0];
    return new URL(root, location.origin).pathname.replace(/\/?$/, '/');
  }

  async function collections() {
    const root = await apiRoot();
    const result = await api('GET', root + 'collections/');
    return {root, list: result.status === 200 ? (result.body.collections || []) : []};
  }

  function section(title, ...content) {
    return el('section', {class: 'card'}, el('h2', {}, title), ...content);
  }

  function barChart(label, pairs) {
    const canvas = el('canvas', {role: 'img', 'aria-label': label});
    const box = el('div', {class: 'chart'}, canvas);
    if (window.Chart && pairs.length) {
      new Chart(canvas, {
        type: 'bar',
        data: {labels: pairs.map((p) => p[0]),
               datasets: [{label, data: pairs.map((p) => p[1]),
                           backgroundColor: pairs.map((p) => TLP_COLOURS[p[0]] || '#0b5cad')}]},
        options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false}}},
      });
    }
    return box;
  }

  page('signin', (view) => {
    const key = el('input', {type: 'password', id: 'api-key', name: 'api_key', autocomplete: 'current-password',
                             required: true, placeholder: 'kz_…'});
    const status = el('div', {});
    const form = el('form', {class: 'signin', onsubmit: async (event) => {
      event.preventDefault();
      status.replaceChildren(message('Signing in…'));
      const error = await kz.signIn(key.value.trim());
      if (error) status.replaceChildren(message(error, 'error'));
    }},
    el('h1', {}, 'Sign in to kizuna'),
    el('label', {for: 'api-key'}, 'API key'), key,
    el('button', {type: 'submit'}, 'Sign in'), status,
    el('p', {class: 'hint'}, 'Your API key (kizuna user add / user key) is exchanged for a session; it is not kept in this page.'));
    view.append(form);
  });

  page('notfound', (view) => view.append(message('No such page.', 'error')));

  page('dashboard', async (view) => {
    view.append(el('h1', {}, 'Dashboard'));
    const summary = await api('GET', '/api/v1/console/summary');
    if (summary.status !== 200) {
      view.append(message(errorText(summary), 'error'));
      return;
    }
    const s = summary.body;
    view.append(section('Objects added in the last 7 days',
      el('p', {class: 'figure', id: 'recent-total'}, String(s.total), s.complete ? '' : '+'),
      el('div', {class: 'grid'},
        s.by_producer ? el('div', {}, el('h3', {}, 'By producer'), table(['producer', 'objects'], s.by_producer)) : null,
        el('div', {}, el('h3', {}, 'By TLP'), barChart('objects by TLP', s.by_tlp),
           table(['TLP', 'objects'], s.by_tlp.map(([t, n]) => [tlpBadge(t === 'none' ? '' : t), n]))),
        el('div', {}, el('h3', {}, 'By type'), table(['type', 'objects'], s.by_type)))));

    const recent = await api('GET', '/api/v1/console/objects?limit=10');
    if (recent.status === 200) {
      const newest = el('div', {id: 'newest'}, objectTable(recent.body.objects));
      view.append(section('Newest objects', newest));
      // What is stored from now on appears at the top without a reload.
      kz.live('default', (objects) => {
        let tbody = newest.querySelector('tbody');
        if (!tbody) {
          newest.replaceChildren(objectTable([]));
          tbody = newest.querySelector('tbody');
        }
        for (const o of objects) {
          tbody.prepend(el('tr', {class: 'fresh'}, [when(new Date().toISOString()), o.type,
            objectLink(o.id, o.name || o.value || o.pattern || o.id), tlpBadge(tlpOf(o)), '', 'Default collection']
            .map((cell) => el('td', {}, cell))));
        }
      });
    }
    // Sightings (ours and partners') and surges as they are stored.
    const activity = el('div', {id: 'activity'}, message('Nothing yet since this page opened.'));
    view.append(section('Live: sightings and surges', activity));
    const addActivity = (cells) => {
      let tbody = activity.querySelector('tbody');
      if (!tbody) {
        activity.replaceChildren(table(['seen', 'what', 'of', 'count', 'TLP'], []));
        tbody = activity.querySelector('tbody');
      }
      tbody.prepend(el('tr', {class: 'fresh'}, cells.map((cell) => el('td', {}, cell))));
    };
    kz.live('sightings', (objects) => {
      for (const o of objects.filter((x) => x.type === 'sighting')) {
        addActivity([when(o.last_seen || o.modified), 'sighting', objectLink(o.sighting_of_ref), o.count ?? '', tlpBadge(tlpOf(o))]);
      }
    });
    kz.live('telescope', (objects) => {
      for (const o of objects.filter((x) => x.type === 'report' && (x.labels || []).includes('telescope-surge'))) {
        const surge = o.x_kizuna_surge || {};
        addActivity([when(o.published || o.created), 'surge', `${surge.port}/${surge.proto} ${surge.metric}`,
                     surge.observed ?? '', tlpBadge(tlpOf(o))]);
      }
    });

    const peers = await api('GET', '/api/v1/peers');
    view.append(section('Partners', peers.status === 200
      ? peerTable(peers.body.peers) : message('Only admins see the partners (' + errorText(peers) + ').')));
    const stats = await api('GET', '/api/v1/correlation/stats');
    if (stats.status === 200) {
      view.append(section('Matching', table(['indicators indexed', 'evaluated by pattern', 'index entries'],
        [[stats.body.indexed, stats.body.by_pattern, stats.body.index_entries]])));
    }
    const drills = await api('GET', '/api/v1/coordination/drills');
    if (drills.status === 200) {
      const open = (drills.body.sent || []).filter((d) => d.teams.some((t) => t.status === 'waiting'));
      view.append(section('Drills in progress', open.length
        ? table(['drill', 'started', 'deadline', 'answered'], open.map((d) => [
          el('a', {href: '#/drills/' + encodeURIComponent(d.drill)}, d.message || d.drill), when(d.started),
          when(d.deadline), d.teams.filter((t) => t.acknowledged).length + ' of ' + d.teams.length]))
        : message('None.')));
    }
    const alerts = await api('GET', '/api/v1/alerts/status');
    if (alerts.status === 200) {
      const events = alerts.body.events || {};
      view.append(section('Alerting', table(['events', 'pending', 'reported', 'suppressed', 'unrouted', 'recipients'],
        [[events.total, events.pending, events.reported, events.suppressed, events.unrouted,
          (alerts.body.recipients || []).length]]),
        table(['delivery state', 'events'], Object.entries(alerts.body.event_states || {}))));
    }
  });

  // The TLP of a STIX object from its markings (TLP 2.0 and 1.0 ids).
  const TLP1 = {
    'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': 'clear',
    'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': 'green',
    'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 'amber',
    'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': 'red',
  };
  function tlpOf(o) {
    const names = Object.fromEntries(Object.entries(TLP_MARKINGS).map(([name, id]) => [id, name]));
    const order = TLPS;
    let tlp = '';
    for (const ref of o.object_marking_refs || []) {
      const name = names[ref] || TLP1[ref];
      if (name && order.indexOf(name) > order.indexOf(tlp)) tlp = name;
    }
    return tlp;
  }

  function objectTable(objects) {
    if (!objects.length) return el('table', {}, el('tbody', {}));
    return table(['added', 'type', 'name', 'TLP', 'producer', 'collection'], objects.map((o) => [
      when(o.date_added), o.type,
      objectLink(o.id, (o.object && (o.object.name || o.object.value || o.object.pattern)) || o.id),
      tlpBadge(o.tlp), o.producer || '', o.collection_title || o.collection]));
  }

  function peerTable(peers) {
    if (!peers.length) return message('No partners configured.');
    return table(['partner', 'state', 'lag', 'last sync', 'received', 'sent', 'last error'], peers.map((p) => {
      const s = p.status || {};
      return [p.name, s.state || 'not started', s.lag_seconds == null ? '' : s.lag_seconds + ' s',
              when(s.last_sync), s.received == null ? '' : s.received, s.sent == null ? '' : s.sent,
              s.last_error || ''];
    }));
  }

  page('objects', async (view, target) => {
    const params = target.params;
    view.append(el('h1', {}, 'Objects'));
    const {list} = await collections();
    const field = (name, label, input) => el('label', {}, label, input);
    const select = (name, options) => el('select', {name},
      el('option', {value: ''}, 'any'),
      options.map(([value, text]) => el('option', {value, selected: params.get(name) === value}, text)));
    const form = el('form', {class: 'filters', onsubmit: (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      for (const [key, value] of new FormData(form)) {
        if (!value) continue;
        query.set(key, key.startsWith('added_') ? new Date(value).toISOString() : value);
      }
      kz.navigate('#/objects?' + query.toString());
    }},
    field('q', 'Text', el('input', {name: 'q', type: 'search', value: params.get('q') || ''})),
    field('type', 'Type', select('type', ['indicator', 'report', 'note', 'malware', 'threat-actor',
      'campaign', 'attack-pattern', 'vulnerability', 'identity', 'sighting', 'relationship',
      'observed-data', 'incident', 'course-of-action', 'tool', 'infrastructure'].map((t) => [t, t]))),
    field('tlp', 'TLP', select('tlp', TLPS.map((t) => [t, 'TLP:' + t.toUpperCase()]))),
    field('producer', 'Producer', el('input', {name: 'producer', value: params.get('producer') || '',
                                               placeholder: 'home, a partner, org:NAME'})),
    field('collection', 'Collection', select('collection', list.map((c) => [c.id, c.title]))),
    field('added_after', 'Added after', el('input', {name: 'added_after', type: 'date'})),
    field('added_before', 'Added before', el('input', {name: 'added_before', type: 'date'})),
    el('button', {type: 'submit'}, 'Search'));
    view.append(form);
    const result = await api('GET', '/api/v1/console/objects?' + params.toString());
    if (result.status !== 200) {
      view.append(message(errorText(result), 'error'));
      return;
    }
    view.append(el('div', {id: 'results'}, objectTable(result.body.objects),
      result.body.complete ? null : message('The search stopped early: narrow it to see older objects.')));
  });

  // The links of an object as an SVG: the object in the middle, linked
  // objects around it, each edge labelled.
  function graph(data, center) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    const size = 520, mid = size / 2, radius = 190;
    svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
    svg.setAttribute('class', 'graph');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'relationships');
    const others = data.nodes.filter((n) => n.id !== center);
    const position = {[center]: [mid, mid]};
    others.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / Math.max(others.length, 1) - Math.PI / 2;
      position[n.id] = [mid + radius * Math.cos(angle), mid + radius * Math.sin(angle)];
    });
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text) node.textContent = text;
      svg.append(node);
      return node;
    };
    for (const e of data.edges) {
      const [x1, y1] = position[e.source] || [mid, mid];
      const [x2, y2] = position[e.target] || [mid, mid];
      add('line', {x1, y1, x2, y2, class: 'edge'});
      add('text', {x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, class: 'edge-label'}, e.label);
    }
    for (const n of data.nodes) {
      const [x, y] = position[n.id];
      const link = document.createElementNS(ns, 'a');
      link.setAttribute('href', '#/object/' + encodeURIComponent(n.id));
      svg.append(link);
      const circle = document.createElementNS(ns, 'circle');
      circle.setAttribute('cx', x); circle.setAttribute('cy', y); circle.setAttribute('r', n.id === center ? 12 : 8);
      circle.setAttribute('class', 'node node-' + n.type);
      const label = document.createElementNS(ns, 'text');
      label.setAttribute('x', x); label.setAttribute('y', y + 24); label.setAttribute('class', 'node-label');
      label.textContent = n.type + ': ' + (n.name || n.id.slice(n.type.length + 2, n.type.length + 10));
      link.append(circle, label);
    }
    return svg;
  }

  page('object', async (view, target) => {
    const id = target.arg;
    const result = await api('GET', '/api/v1/console/objects/' + encodeURIComponent(id));
    if (result.status !== 200) {
      view.append(el('h1', {}, id), message(errorText(result), 'error'));
      return;
    }
    const versions = result.body.versions;
    const newest = versions[versions.length - 1];
    const o = newest.object || {};
    view.append(el('h1', {}, o.name || o.value || id),
      el('p', {class: 'meta'}, el('code', {}, id), ' ', tlpBadge(newest.tlp),
         newest.producer ? [' produced by ', el('strong', {}, newest.producer)] : null,
         o.created_by_ref ? [' (', o.created_by_ref, ')'] : null));
    view.append(section('Versions', table(['version', 'added', 'TLP', 'producer', 'collection'],
      versions.map((v) => [when(v.version), when(v.date_added), tlpBadge(v.tlp), v.producer || '',
                           v.collection_title || v.collection]))));
    const markingNames = Object.fromEntries(Object.entries(TLP_MARKINGS).map(([name, id]) => [id, name]));
    if (o.object_marking_refs) {
      view.append(section('Markings', el('ul', {}, o.object_marking_refs.map((m) =>
        el('li', {}, markingNames[m] ? tlpBadge(markingNames[m]) : null, ' ', el('code', {}, m))))));
    }
    if (o.x_kizuna_sharing_groups) view.append(section('Sharing groups', o.x_kizuna_sharing_groups.join(', ')));
    view.append(section('Links', result.body.graph.edges.length
      ? graph(result.body.graph, id) : message('No relationships.')));
    if (newest.type === 'indicator') {
      const sightings = await api('GET', '/api/v1/indicators/' + encodeURIComponent(id) + '/sightings');
      if (sightings.status === 200) {
        const rows = (sightings.body.sighted_by || []).map((s) =>
          [s.name || s.identity, s.count, when(s.first_seen), when(s.last_seen), (s.via || []).join(', ')]);
        view.append(section('Sightings by partners', rows.length
          ? table(['observer', 'count', 'first seen', 'last seen', 'via'], rows) : message('Not sighted yet.')));
      }
    }
    view.append(section('STIX', el('pre', {class: 'json'}, JSON.stringify(o, null, 2))));
  });

  function uuid4() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }


  async function postEnvelope(root, collection, objects, onProgress) {
    const body = JSON.stringify({objects});
    // XMLHttpRequest: fetch cannot report an upload's progress.
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', root + 'collections/' + encodeURIComponent(collection) + '/objects/');
      xhr.setRequestHeader('Content-Type', 'application/taxii+json;version=2.1');
      xhr.setRequestHeader('Accept', 'application/taxii+json;version=2.1');
      xhr.setRequestHeader('X-CSRF-Token', kz.session().csrf_token);
      xhr.setRequestHeader('X-Kizuna-Console', '1');
      xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
      xhr.onload = () => {
        let parsed = null;
        try { parsed = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        resolve({status: xhr.status, body: parsed});
      };
      xhr.onerror = () => resolve({status: 0, body: {title: 'Network error'}});
      xhr.send(body);
    });
  }

  function statusText(result) {
    if (result.status !== 202 && result.status !== 200) return [errorText(result), 'error'];
    const s = result.body || {};
    const failures = (s.failures || []).map((f) => f.id + ': ' + (f.message || '')).join('; ');
    return ['Stored ' + (s.success_count || 0) + ', failed ' + (s.failure_count || 0) +
            (failures ? ' (' + failures + ')' : ''), s.failure_count ? 'error' : 'ok'];
  }

  page('new', async (view) => {
    view.append(el('h1', {}, 'Create'));
    const {root, list} = await collections();
    const writable = list.filter((c) => c.can_write);
    if (!writable.length) {
      view.append(message('You may not write to any collection.', 'error'));
      return;
    }
    const status = el('div', {id: 'create-status'});
    const kind = el('select', {name: 'kind', id: 'kind'}, ['indicator', 'report', 'note'].map((k) => el('option', {value: k}, k)));
    const inputs = {
      name: el('input', {name: 'name', id: 'name'}),
      pattern: el('input', {name: 'pattern', id: 'pattern', placeholder: "[ipv4-addr:value = '203.0.113.5']"}),
      description: el('textarea', {name: 'description', id: 'description', rows: 3}),
      tlp: el('select', {name: 'tlp', id: 'tlp'}, TLPS.map((t) => el('option', {value: t, selected: t === 'green'}, 'TLP:' + t.toUpperCase()))),
      groups: el('input', {name: 'groups', id: 'groups', placeholder: 'sharing groups, comma-separated'}),
      refs: el('input', {name: 'refs', id: 'refs', placeholder: 'indicator--…, malware--…'}),
      collection: el('select', {name: 'collection', id: 'collection'}, writable.map((c) => el('option', {value: c.id}, c.title))),
    };
    const form = el('form', {class: 'create', onsubmit: async (event) => {
      event.preventDefault();
      const now = new Date().toISOString();
      const type = kind.value;
      const object = {type, spec_version: '2.1', id: type + '--' + uuid4(), created: now, modified: now,
                      object_marking_refs: [TLP_MARKINGS[inputs.tlp.value]]};
      const refs = inputs.refs.value.split(',').map((r) => r.trim()).filter(Boolean);
      const groups = inputs.groups.value.split(',').map((g) => g.trim()).filter(Boolean);
      if (groups.length) object.x_kizuna_sharing_groups = groups;
      if (type === 'indicator') {
        Object.assign(object, {name: inputs.name.value, pattern: inputs.pattern.value, pattern_type: 'stix',
                               valid_from: now, description: inputs.description.value || undefined});
      } else if (type === 'report') {
        Object.assign(object, {name: inputs.name.value, published: now, description: inputs.description.value || undefined,
                               object_refs: refs});
      } else {
        Object.assign(object, {abstract: inputs.name.value || undefined, content: inputs.description.value,
                               object_refs: refs});
      }
      status.replaceChildren(message('Sending…'));
      const result = await postEnvelope(root, inputs.collection.value, [object]);
      const [text, kindOf] = statusText(result);
      status.replaceChildren(message(text, kindOf));
      if (kindOf === 'ok') status.append(el('p', {}, 'Created ', objectLink(object.id)));
    }},
    el('label', {for: 'kind'}, 'Kind'), kind,
    el('label', {for: 'name'}, 'Name (a note: its abstract)'), inputs.name,
    el('label', {for: 'pattern'}, 'Pattern (indicators)'), inputs.pattern,
    el('label', {for: 'description'}, 'Description (a note: its content)'), inputs.description,
    el('label', {for: 'tlp'}, 'TLP'), inputs.tlp,
    el('label', {for: 'groups'}, 'Sharing groups'), inputs.groups,
    el('label', {for: 'refs'}, 'Refers to (a report or note: the ids it is about)'), inputs.refs,
    el('label', {for: 'collection'}, 'Collection'), inputs.collection,
    el('button', {type: 'submit'}, 'Create'), status);
    view.append(section('A new object', form));

    const file = el('input', {type: 'file', id: 'import-file', accept: '.json,application/json'});
    const importCollection = el('select', {id: 'import-collection'}, writable.map((c) => el('option', {value: c.id}, c.title)));
    const progress = el('progress', {id: 'import-progress', max: 1, value: 0});
    const importStatus = el('div', {id: 'import-status'});
    const importForm = el('form', {onsubmit: async (event) => {
      event.preventDefault();
      if (!file.files.length) return;
      let bundle;
      try { bundle = JSON.parse(await file.files[0].text()); } catch (e) {
        importStatus.replaceChildren(message('Not JSON: ' + e.message, 'error'));
        return;
      }
      const objects = Array.isArray(bundle) ? bundle : (bundle.objects || []);
      const batch = 500;
      let stored = 0, failed = 0;
      for (let i = 0; i < objects.length; i += batch) {
        const result = await postEnvelope(root, importCollection.value, objects.slice(i, i + batch), (f) => {
          progress.value = (i + f * Math.min(batch, objects.length - i)) / objects.length;
        });
        if (result.status !== 202 && result.status !== 200) {
          importStatus.replaceChildren(message(errorText(result), 'error'));
          return;
        }
        stored += result.body.success_count || 0;
        failed += result.body.failure_count || 0;
        progress.value = Math.min(i + batch, objects.length) / objects.length;
        importStatus.replaceChildren(message(`${Math.min(i + batch, objects.length)} of ${objects.length} sent`));
      }
      importStatus.replaceChildren(message(`Imported: ${stored} stored, ${failed} refused`, failed ? 'error' : 'ok'));
    }},
    el('label', {for: 'import-file'}, 'STIX 2.1 bundle'), file,
    el('label', {for: 'import-collection'}, 'Into'), importCollection,
    el('button', {type: 'submit'}, 'Import'), progress, importStatus);
    view.append(section('Import a file', importForm));
  });

  page('partners', async (view, target) => {
    view.append(el('h1', {}, 'Partners'));
    const peers = await api('GET', '/api/v1/peers');
    if (peers.status !== 200) {
      view.append(message(errorText(peers), 'error'));
      return;
    }
    view.append(section('State', peerTable(peers.body.peers)));
    const peerName = target.params.get('peer') || '';
    const direction = target.params.get('direction') || '';
    const audit = await api('GET', '/api/v1/console/audit?last=200' + (peerName ? '&peer=' + encodeURIComponent(peerName) : '') +
                                   (direction ? '&direction=' + encodeURIComponent(direction) : ''));
    if (audit.status === 200) {
      const link = (peer, dir) => '#/partners?' + new URLSearchParams(Object.entries({peer, direction: dir}).filter(([, v]) => v));
      view.append(section('Audit trail' + (peerName ? ': ' + peerName : '') + (direction ? ', ' + direction : '') + ' (newest first)',
        el('p', {}, 'Partner: ', [el('a', {href: link('', direction)}, 'all'), ...peers.body.peers.map((p) =>
          [' · ', el('a', {href: link(p.name, direction)}, p.name)])]),
        el('p', {}, 'Direction: ', [el('a', {href: link(peerName, '')}, 'both'), ' · ',
          el('a', {href: link(peerName, 'received'), id: 'audit-received'}, 'received'), ' · ',
          el('a', {href: link(peerName, 'sent')}, 'sent')]),
        el('div', {id: 'audit'}, audit.body.entries.length
          ? table(['time', 'partner', 'direction', 'channel', 'object', 'outcome'], audit.body.entries.map((e) => [
            when(e.time), e.peer, e.direction, e.channel, objectLink(e.id), e.outcome]))
          : message('Nothing sent or received yet.'))));
    }
    view.append(section('Configuration', table(['partner', 'URL', 'max TLP', 'pulls', 'into', 'push', 'stream'],
      peers.body.peers.map((p) => [p.name, p.url, tlpBadge(p.max_tlp), (p.pull || []).join(', '), p.into,
                                   p.push, p.stream ? 'yes' : 'no']))));
  });

  page('match', async (view) => {
    view.append(el('h1', {}, 'Matching'));
    const input = el('textarea', {id: 'observables', rows: 8, placeholder: 'one observable per line: IPs, domains, URLs, hashes…'});
    const file = el('input', {type: 'file', id: 'observables-file', accept: '.txt,.csv,text/plain'});
    const out = el('div', {id: 'match-results'});
    const form = el('form', {onsubmit: async (event) => {
      event.preventDefault();
      let text = input.value;
      if (file.files.length) text += '\n' + await file.files[0].text();
      out.replaceChildren(message('Matching…'));
      const result = await api('POST', '/api/v1/match', text, 'text/plain');
      if (result.status !== 200) {
        out.replaceChildren(message(errorText(result), 'error'));
        return;
      }
      const results = Array.isArray(result.body) ? result.body : (result.body.results || []);
      const rows = [];
      for (const r of results) {
        if (r.error) { rows.push([r.input, 'error: ' + r.error, '', '']); continue; }
        for (const m of r.matches || []) {
          rows.push([r.value, objectLink(m.indicator, m.name || m.indicator), tlpBadge(m.tlp), (r.warnings || []).join(', ')]);
        }
        if (!(r.matches || []).length) rows.push([r.value, 'no match', '', (r.warnings || []).join(', ')]);
      }
      out.replaceChildren(table(['observable', 'indicator', 'TLP', 'warnings'], rows));
    }},
    el('label', {for: 'observables'}, 'Observables'), input,
    el('label', {for: 'observables-file'}, 'or a file'), file,
    el('button', {type: 'submit'}, 'Match'));
    view.append(form, out);
  });

  // ---- drills: the origin's reports with their response-time chart, the
  // form that starts one, and the receiving side's acknowledge button.
  function responseChart(report) {
    const teams = report.teams;
    const canvas = el('canvas', {id: 'response-chart', role: 'img', 'aria-label': 'response time per team'});
    const box = el('div', {class: 'chart tall'}, canvas);
    if (window.Chart) {
      // One bar per team (none yet: no bar); late ones amber. The deadline
      // is in the text above: a line at it would flatten answers of seconds.
      new Chart(canvas, {
        type: 'bar',
        data: {labels: teams.map((t) => t.team + ' (' + t.status + ')'), datasets: [
          {label: 'response time (s)', data: teams.map((t) => t.response_seconds), minBarLength: 3,
           backgroundColor: teams.map((t) => (t.status === 'late' ? '#ffc000' : '#33aa00'))},
        ]},
        options: {animation: false, maintainAspectRatio: false, indexAxis: 'y',
                  plugins: {legend: {display: false}},
                  scales: {x: {beginAtZero: true, suggestedMax: 10, title: {display: true, text: 'seconds to acknowledge'}}}},
      });
    }
    return box;
  }

  function historyChart(sent) {
    const drills = [...sent].reverse();
    const teams = [...new Set(drills.flatMap((d) => d.teams.map((t) => t.team)))];
    const canvas = el('canvas', {id: 'history-chart', role: 'img', 'aria-label': 'response times over drills'});
    if (window.Chart && drills.length) {
      new Chart(canvas, {
        type: 'line',
        data: {labels: drills.map((d) => when(d.started)), datasets: teams.map((team) => ({
          label: team, spanGaps: true,
          data: drills.map((d) => (d.teams.find((t) => t.team === team) || {}).response_seconds ?? null)}))},
        options: {animation: false, maintainAspectRatio: false,
                  scales: {y: {beginAtZero: true, title: {display: true, text: 'seconds'}}}},
      });
    }
    return el('div', {class: 'chart tall'}, canvas);
  }

  page('drills', async (view, target) => {
    view.append(el('h1', {}, 'Communication drills'));
    const list = await api('GET', '/api/v1/coordination/drills');
    if (list.status !== 200) {
      view.append(message(errorText(list), 'error'));
      return;
    }
    const {received, sent} = list.body;
    const refresh = () => { if (kz.currentHash() === location.hash) kz.rerender(); };

    if (target.arg) {
      const report = await api('GET', '/api/v1/coordination/drills/' + encodeURIComponent(target.arg));
      if (report.status !== 200) {
        view.append(message(errorText(report), 'error'));
      } else {
        const r = report.body;
        view.append(section('Drill: ' + (r.message || r.drill),
          el('p', {class: 'meta'}, 'started ', when(r.started), ', deadline ', when(r.deadline)),
          responseChart(r),
          el('div', {id: 'drill-report'}, table(['team', 'status', 'acknowledged', 'response (s)', 'channel', 'e-mail'],
            r.teams.map((t) => [t.team, t.status, when(t.acknowledged), t.response_seconds ?? '', t.channel || '',
                                t.email && t.email.to ? t.email.to + ' (' + t.email.state + ')' : ''])))));
      }
    }

    const to = el('input', {id: 'drill-to', placeholder: 'partners, comma-separated'});
    const deadline = el('input', {id: 'drill-deadline', type: 'number', min: 1, value: 60});
    const text = el('input', {id: 'drill-message', placeholder: 'Q4 drill'});
    const status = el('div', {id: 'drill-status'});
    view.append(section('Start a drill', el('form', {id: 'drill-form', onsubmit: async (event) => {
      event.preventDefault();
      const result = await api('POST', '/api/v1/coordination/drills', {
        to: to.value.split(',').map((p) => p.trim()).filter(Boolean),
        deadline_minutes: Number(deadline.value), message: text.value});
      if (result.status !== 201) {
        status.replaceChildren(message(errorText(result), 'error'));
        return;
      }
      kz.navigate('#/drills/' + encodeURIComponent(result.body.drill));
    }},
    el('label', {for: 'drill-to'}, 'To'), to,
    el('label', {for: 'drill-deadline'}, 'Deadline (minutes)'), deadline,
    el('label', {for: 'drill-message'}, 'Message'), text,
    el('button', {type: 'submit'}, 'Start'), status)));

    view.append(section('Sent', sent.length
      ? [sent.length > 1 ? historyChart(sent) : null, table(['drill', 'started', 'deadline', 'answered'], sent.map((d) => [
        el('a', {href: '#/drills/' + encodeURIComponent(d.drill)}, d.message || d.drill), when(d.started),
        when(d.deadline), d.teams.filter((t) => t.acknowledged).length + ' of ' + d.teams.length]))]
      : message('No drills sent.')));

    view.append(section('Received', received.length
      ? el('div', {id: 'drills-received'}, table(['from', 'message', 'received', 'deadline', 'acknowledged'], received.map((d) => [
        d.from, d.message, when(d.received), when(d.deadline),
        d.acknowledged ? when(d.acknowledged) : el('button', {type: 'button', class: 'ack', onclick: async (event) => {
          event.target.disabled = true;
          const result = await api('POST', '/api/v1/coordination/drills/' + encodeURIComponent(d.drill) + '/ack');
          if (result.status >= 300) {
            event.target.replaceWith(message(errorText(result), 'error'));
          } else {
            refresh();
          }
        }}, 'Acknowledge')])))
      : message('No drills received.')));

    // Drills and acknowledgements arrive in the coordination collection.
    kz.live('coordination', (objects) => {
      if (objects.some((o) => o.type.startsWith('kizuna-drill'))) refresh();
    });
  });

  // ---- the telescope: packets and distinct sources per port over time,
  // ours and our partners' sensors merged or apart, surges marked.
  page('telescope', async (view, target) => {
    const params = target.params;
    view.append(el('h1', {}, 'Telescope'));
    const since = params.get('since') || '24h';
    const origin = params.get('origin') || '';
    const sensor = params.get('sensor') || '';
    const sensors = await api('GET', '/api/v1/telescope/sensors?since=' + encodeURIComponent(since));
    if (sensors.status !== 200) {
      view.append(message(errorText(sensors), 'error'));
      return;
    }
    const origins = [...new Set(sensors.body.map((s) => s.origin))];
    const query = (extra) => {
      const q = new URLSearchParams({since});
      if (origin) q.set('origin', origin);
      if (sensor) q.set('sensor', sensor);
      for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
      return q.toString();
    };
    const sinceSelect = el('select', {id: 'tele-since'}, ['1h', '6h', '24h', '7d'].map((v) => el('option', {value: v, selected: v === since}, v)));
    const originSelect = el('select', {id: 'tele-origin'}, el('option', {value: ''}, 'all sensors, merged'),
      origins.map((o) => el('option', {value: o, selected: o === origin}, o === 'home' ? 'our sensors' : o)));
    // One sensor: "origin/sensor" (its origin's sensors are named apart).
    const sensorSelect = el('select', {id: 'tele-sensor'}, el('option', {value: ''}, 'every sensor'),
      sensors.body.map((x) => el('option', {value: x.origin + '/' + x.sensor, selected: x.sensor === sensor && x.origin === (origin || x.origin)},
                                 (x.origin === 'home' ? '' : x.origin + ': ') + x.sensor)));
    view.append(el('form', {class: 'filters', onsubmit: (event) => {
      event.preventDefault();
      const q = new URLSearchParams({since: sinceSelect.value});
      if (sensorSelect.value) {
        const [o, ...name] = sensorSelect.value.split('/');
        q.set('origin', o);
        q.set('sensor', name.join('/'));
      } else if (originSelect.value) {
        q.set('origin', originSelect.value);
      }
      kz.navigate('#/telescope?' + q.toString());
    }}, el('label', {}, 'Since', sinceSelect), el('label', {}, 'Origin', originSelect),
    el('label', {}, 'Sensor', sensorSelect), el('button', {type: 'submit'}, 'Show')));

    const top = await api('GET', '/api/v1/telescope/top?' + query({top: 10}));
    if (top.status !== 200) {
      view.append(message(errorText(top), 'error'));
      return;
    }
    const t = top.body;
    const approx = (n, exact) => (exact ? String(n) : '~' + n);
    view.append(section('Totals', el('p', {class: 'figure', id: 'tele-packets'}, String(t.packets)),
      el('p', {}, 'packets from ', approx(t.sources, t.exact), ' sources in ', String(t.intervals), ' minutes, ',
         when(t.first), ' to ', when(t.last))));
    const port = params.get('port') ? {proto: params.get('proto') || 'tcp', port: Number(params.get('port'))}
                                    : t.ports[0];
    if (port) {
      const step = since === '7d' ? 3600 : since === '24h' ? 600 : 60;
      const merged = await api('GET', `/api/v1/telescope/ports/${port.proto}/${port.port}?` + query({step}));
      const surges = await api('GET', '/api/v1/telescope/surges?' + query());
      const perOrigin = origin || sensor || origins.length < 2 ? [] : await Promise.all(origins.map(async (o) => {
        const r = await api('GET', `/api/v1/telescope/ports/${port.proto}/${port.port}?` +
                                   new URLSearchParams({since, origin: o, step}).toString());
        return [o, r.status === 200 ? r.body : []];
      }));
      const points = merged.status === 200 ? merged.body : [];
      const labels = points.map((p) => when(p.start));
      const starts = new Set((surges.status === 200 ? surges.body : [])
        .filter((s) => s.proto === port.proto && s.port === port.port).map((s) => Date.parse(s.start)));
      const surgeMarks = points.map((p) => {
        const at = Date.parse(p.start);
        return [...starts].some((s) => s >= at && s < at + step * 1000) ? p.sources : null;
      });
      const canvas = el('canvas', {id: 'series-chart', role: 'img',
                                   'aria-label': `packets and sources of ${port.port}/${port.proto} over time`});
      const datasets = [
        {label: 'packets', data: points.map((p) => p.packets), yAxisID: 'packets', borderColor: '#0b5cad', pointRadius: 0},
        {label: 'distinct sources', data: points.map((p) => p.sources), yAxisID: 'sources', borderColor: '#cf222e', pointRadius: 0},
        {label: 'surge', data: surgeMarks, yAxisID: 'sources', showLine: false, pointRadius: 7, pointStyle: 'triangle',
         borderColor: '#a40e26', backgroundColor: '#a40e26'},
      ];
      for (const [o, series] of perOrigin) {
        const byStart = Object.fromEntries(series.map((p) => [p.start, p.sources]));
        datasets.push({label: 'sources: ' + (o === 'home' ? 'our sensors' : o), data: points.map((p) => byStart[p.start] ?? null),
                       yAxisID: 'sources', borderDash: [4, 3], pointRadius: 0});
      }
      if (window.Chart) {
        new Chart(canvas, {type: 'line', data: {labels, datasets},
          options: {animation: false, maintainAspectRatio: false, interaction: {mode: 'index', intersect: false},
                    scales: {packets: {type: 'linear', position: 'left', beginAtZero: true, title: {display: true, text: 'packets'}},
                             sources: {type: 'linear', position: 'right', beginAtZero: true, title: {display: true, text: 'sources'},
                                       grid: {drawOnChartArea: false}}}}});
      }
      view.append(section(`${port.port}/${port.proto} over time (${step / 60}-minute steps)`,
        el('div', {class: 'chart tall'}, canvas),
        starts.size ? message(starts.size + ' surge(s) marked ▲') : null));
    }
    view.append(section('Busiest ports', table(['port', 'packets', 'sources', ''], t.ports.map((p) => [
      p.port + '/' + p.proto, p.packets, approx(p.sources, p.exact),
      el('a', {href: '#/telescope?' + query({proto: p.proto, port: p.port})}, 'chart')]))));
    if (t.top_sources.length) {
      view.append(section('Busiest sources', table(['address', 'packets', 'minutes', 'fingerprints', 'sensors'],
        t.top_sources.map((s) => [s.address, s.packets, s.intervals, s.fingerprints.join(', '), s.sensors.join(', ')]))));
    }
    const breakdown = await api('GET', '/api/v1/telescope/breakdown?' + query({top: 10}));
    if (breakdown.status === 200) {
      const b = breakdown.body;
      view.append(section('Sources by country', (b.countries || []).length
        ? table(['country', 'sources'], b.countries.map((c) => [c.country, c.sources]))
        : message('No source placed: load geolocation data (kizuna geo load).')));
    }
    const surges = await api('GET', '/api/v1/telescope/surges?' + query());
    if (surges.status === 200) {
      view.append(section('Surges', surges.body.length ? table(['port', 'metric', 'start', 'baseline', 'observed', 'peak', 'first seen by'],
        surges.body.map((s) => [s.port + '/' + s.proto, s.metric, when(s.start), s.baseline, s.observed, s.peak, s.first_seen_by]))
        : message('No surges.')));
    }
    view.append(section('Sensors', table(['origin', 'sensor', 'minutes', 'packets', 'first', 'last'],
      sensors.body.map((s) => [s.origin, s.sensor, s.intervals, s.packets, when(s.first), when(s.last)]))));
    kz.live('telescope', (objects) => {
      if (objects.some((o) => o.type === 'report')) kz.rerender();
    });
  });

  // A report's body as the recipient gets it: JSON indented, CSV as it is.
  function pretty(body) {
    if (typeof body !== 'string') return JSON.stringify(body, null, 2);
    try { return JSON.stringify(JSON.parse(body), null, 2); } catch (e) { return body; }
  }

  // ---- alerting: recipients, reports and their delivery state, a report's
  // preview (its body as the recipient gets it).
  page('alerts', async (view, target) => {
    view.append(el('h1', {}, 'Infection alerting'));
    const status = await api('GET', '/api/v1/alerts/status');
    if (status.status !== 200) {
      view.append(message(errorText(status), 'error'));
      return;
    }
    const events = status.body.events || {};
    view.append(section('Events', table(['total', 'pending', 'reported', 'suppressed', 'withheld', 'unrouted'],
      [[events.total, events.pending, events.reported, events.suppressed, events.withheld, events.unrouted]]),
      Object.keys(status.body.event_states || {}).length
        ? table(['delivery state', 'events'], Object.entries(status.body.event_states)) : null));
    const recipients = await api('GET', '/api/v1/alerts/recipients');
    if (recipients.status === 200) {
      view.append(section('Recipients', el('div', {id: 'alert-recipients'}, recipients.body.recipients.length
        ? table(['recipient', 'routes', 'channel', 'format', 'TLP', 'every'], recipients.body.recipients.map((r) => [
          r.name, [...r.asns.map((a) => 'AS' + a), ...r.prefixes, ...r.countries, ...r.domains, r.fallback ? 'fallback' : '']
            .filter(Boolean).join(', '), r.channel + (r.emails.length ? ' (' + r.emails.join(', ') + ')' : r.peer ? ' (' + r.peer + ')' : ''),
          r.format, tlpBadge(r.tlp), Math.round(r.period_seconds / 3600) + ' h']))
        : message('No recipients: kizuna alerts recipient add, or [alerts] route_by_directory.'))));
    }
    const reports = await api('GET', '/api/v1/alerts/reports');
    if (reports.status === 200) {
      view.append(section('Reports', el('div', {id: 'alert-reports'}, reports.body.reports.length
        ? table(['report', 'recipient', 'period', 'events', 'state', 'attempts', 'sent', 'acknowledged', 'last error'],
          reports.body.reports.map((r) => [el('a', {href: '#/alerts/' + encodeURIComponent(r.id)}, r.id), r.recipient,
            when(r.period_start), r.events, r.state, r.attempts, when(r.sent), when(r.acknowledged), r.last_error]))
        : message('No reports yet.'))));
    }
    if (target.arg) {
      const report = await api('GET', '/api/v1/alerts/reports/' + encodeURIComponent(target.arg) + '?body=true');
      if (report.status === 200) {
        const r = report.body;
        view.append(section('Report ' + target.arg + ' (preview)',
          table(['recipient', 'format', 'channel', 'state'], [[r.recipient, r.format, r.channel, r.state]]),
          el('pre', {class: 'json', id: 'alert-preview'}, pretty(r.body))));
      } else {
        view.append(message(errorText(report), 'error'));
      }
    }
  });

  // ---- the team directory: every team's contact points, hours, networks.
  page('directory', async (view) => {
    view.append(el('h1', {}, 'Team directory'));
    const result = await api('GET', '/api/v1/coordination/directory');
    if (result.status !== 200) {
      view.append(message(errorText(result), 'error'));
      return;
    }
    const teams = result.body.teams || [];
    if (!teams.length) {
      view.append(message('No entries yet: kizuna directory set.'));
      return;
    }
    for (const t of teams) {
      view.append(section((t.name || t.id) + (t.own ? ' (us)' : t.peer ? ' (partner ' + t.peer + ')' : ''),
        el('p', {class: 'meta'}, [t.kind, t.country, t.time_zone, t.operating_hours]
          .filter(Boolean).join(' · '), t.stale ? ' · STALE: not verified for a long time' : ''),
        (t.contacts || []).length ? table(['role', 'name', 'e-mail', 'phone'],
          t.contacts.map((c) => [c.role, c.name, c.email || '', c.phone || ''])) : message('No contacts.'),
        el('p', {}, 'Constituency: ', (() => {
          const c = t.constituency || {};
          return [...(c.asns || []).map((a) => 'AS' + a), ...(c.prefixes || []), ...(c.domains || []),
                  ...(c.countries || [])].join(', ') || '—';
        })()),
        el('p', {class: 'meta'}, 'verified ', when(t.last_verified), t.node_url ? [' · node ', t.node_url] : null)));
    }
  });

  // ---- emergencies: raise one, follow each team's escalation, acknowledge.
  page('emergencies', async (view) => {
    view.append(el('h1', {}, 'Emergencies'));
    const list = await api('GET', '/api/v1/coordination/emergencies');
    if (list.status !== 200) {
      view.append(message(errorText(list), 'error'));
      return;
    }
    const refresh = () => kz.rerender();
    const to = el('input', {id: 'emergency-to', placeholder: 'partners, comma-separated'});
    const summary = el('input', {id: 'emergency-summary'});
    const minutes = el('input', {id: 'emergency-minutes', type: 'number', min: 1, value: 15});
    const status = el('div', {id: 'emergency-status'});
    view.append(section('Raise an emergency', el('form', {id: 'emergency-form', onsubmit: async (event) => {
      event.preventDefault();
      const result = await api('POST', '/api/v1/coordination/emergencies', {
        to: to.value.split(',').map((p) => p.trim()).filter(Boolean), summary: summary.value,
        ack_minutes: Number(minutes.value)});
      if (result.status !== 201) status.replaceChildren(message(errorText(result), 'error'));
      else refresh();
    }},
    el('label', {for: 'emergency-to'}, 'To'), to, el('label', {for: 'emergency-summary'}, 'Summary'), summary,
    el('label', {for: 'emergency-minutes'}, 'Minutes for each contact to answer'), minutes,
    el('button', {type: 'submit'}, 'Raise'), status)));
    view.append(section('Raised', el('div', {id: 'emergencies-raised'}, list.body.raised.length
      ? list.body.raised.map((e) => el('div', {}, el('h3', {}, e.summary, ' — ', when(e.raised)),
        table(['team', 'state', 'acknowledged', 'by', 'next escalation', 'steps'], e.teams.map((t) => [
          t.team, t.state, when(t.acknowledged), t.by || '', when(t.next_escalation),
          t.steps.map((st) => `${when(st.at)} ${st.role} ${st.name} ${st.email || st.phone || ''} (${st.mail})`).join('; ')]))))
      : message('None raised.'))));
    view.append(section('Received', list.body.received.length
      ? table(['from', 'summary', 'raised', 'acknowledged'], list.body.received.map((e) => [e.from, e.summary, when(e.raised),
        e.acknowledged ? when(e.acknowledged) : el('button', {type: 'button', class: 'ack', onclick: async (event) => {
          event.target.disabled = true;
          const result = await api('POST', '/api/v1/coordination/emergencies/' + encodeURIComponent(e.emergency) + '/ack');
          if (result.status >= 300) event.target.replaceWith(message(errorText(result), 'error'));
          else refresh();
        }}, 'Acknowledge')]))
      : message('None received.')));
    kz.live('coordination', (objects) => {
      if (objects.some((o) => o.type.startsWith('kizuna-emergency'))) refresh();
    });
  });

  // ---- joint incidents: the list, one incident's timeline, tasks and
  // participants, and the forms that add to it.
  page('incidents', async (view, target) => {
    view.append(el('h1', {}, 'Joint incidents'));
    const refresh = () => kz.rerender();
    if (target.arg) {
      const result = await api('GET', '/api/v1/coordination/incidents/' + encodeURIComponent(target.arg));
      if (result.status !== 200) {
        view.append(message(errorText(result), 'error'));
        return;
      }
      const i = result.body;
      view.append(section(i.title,
        el('p', {class: 'meta'}, `${i.status} · severity ${i.severity || '—'} · ${i.category || ''} · opened ${when(i.opened)} by ${i.owner}`,
          i.closed ? ' · closed ' + when(i.closed) : ''),
        el('p', {}, 'Participants: ', el('span', {id: 'incident-participants'}, i.participants.join(', ')))));
      view.append(section('Timeline', el('div', {id: 'incident-timeline'},
        table(['at', 'by', 'kind', 'text'], i.timeline.map((e) => [when(e.at), e.by, e.kind, e.text])))));
      view.append(section('Tasks', el('div', {id: 'incident-tasks'}, i.tasks.length
        ? table(['task', 'assigned to', 'due', 'by'], i.tasks.map((t) => [t.text, t.assignee, when(t.due), t.by]))
        : message('No tasks.'))));
      const assignee = el('input', {id: 'task-assignee', placeholder: 'a participant'});
      const taskText = el('input', {id: 'task-text'});
      const due = el('input', {id: 'task-due', type: 'datetime-local'});
      const taskStatus = el('div', {});
      view.append(section('Assign a task', el('form', {id: 'incident-task-form', onsubmit: async (event) => {
        event.preventDefault();
        const body = {assign: assignee.value, text: taskText.value};
        if (due.value) body.due = new Date(due.value).toISOString();
        const r = await api('POST', '/api/v1/coordination/incidents/' + encodeURIComponent(i.id) + '/tasks', body);
        if (r.status >= 300) taskStatus.replaceChildren(message(errorText(r), 'error'));
        else refresh();
      }}, el('label', {for: 'task-assignee'}, 'Assign to'), assignee, el('label', {for: 'task-text'}, 'Task'), taskText,
      el('label', {for: 'task-due'}, 'Due'), due, el('button', {type: 'submit'}, 'Assign'), taskStatus)));
      const note = el('textarea', {id: 'incident-note', rows: 3});
      const noteStatus = el('div', {});
      view.append(section('Add to the timeline', el('form', {id: 'incident-note-form', onsubmit: async (event) => {
        event.preventDefault();
        const r = await api('POST', '/api/v1/coordination/incidents/' + encodeURIComponent(i.id) + '/notes', {text: note.value});
        if (r.status >= 300) noteStatus.replaceChildren(message(errorText(r), 'error'));
        else refresh();
      }}, el('label', {for: 'incident-note'}, 'Note'), note, el('button', {type: 'submit'}, 'Add'), noteStatus)));
      kz.live('coordination', (objects) => {
        if (objects.some((o) => o.type === 'note' || o.type === 'incident' || o.type === 'kizuna-task')) refresh();
      });
      return;
    }
    const list = await api('GET', '/api/v1/coordination/incidents');
    if (list.status !== 200) {
      view.append(message(errorText(list), 'error'));
      return;
    }
    const title = el('input', {id: 'incident-title'});
    const participants = el('input', {id: 'incident-participants-input', placeholder: 'partners, comma-separated'});
    const severity = el('select', {id: 'incident-severity'}, ['low', 'medium', 'high', 'critical'].map((v) => el('option', {value: v}, v)));
    const status = el('div', {id: 'incident-status'});
    view.append(section('Open an incident', el('form', {id: 'incident-form', onsubmit: async (event) => {
      event.preventDefault();
      const r = await api('POST', '/api/v1/coordination/incidents', {title: title.value, severity: severity.value,
        participants: participants.value.split(',').map((p) => p.trim()).filter(Boolean)});
      if (r.status !== 201) status.replaceChildren(message(errorText(r), 'error'));
      else kz.navigate('#/incidents/' + encodeURIComponent(r.body.incident));
    }},
    el('label', {for: 'incident-title'}, 'Title'), title,
    el('label', {for: 'incident-participants-input'}, 'Participants'), participants,
    el('label', {for: 'incident-severity'}, 'Severity'), severity,
    el('button', {type: 'submit'}, 'Open'), status)));
    view.append(section('Incidents', list.body.incidents.length
      ? table(['incident', 'status', 'severity', 'owner', 'participants', 'opened'], list.body.incidents.map((i) => [
        el('a', {href: '#/incidents/' + encodeURIComponent(i.id)}, i.title), i.status, i.severity, i.owner,
        i.participants.join(', '), when(i.opened)]))
      : message('No incidents.')));
  });

  kz.start();
})();
