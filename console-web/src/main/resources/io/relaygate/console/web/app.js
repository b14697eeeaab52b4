// The Relaygate console page: plain JavaScript, no dependencies. The admin token lives in sessionStorage only.
'use strict';

const $ = (id) => document.getElementById(id);
const HISTORY = 60;
const state = { token: sessionStorage.getItem('relaygate.token'), role: null, socket: null, retry: null,
                up: [], down: [], users: new Map(), editing: null };

const WRONG_TOKEN = 'That admin token is not the right one. It is in admin.token in the gateway\'s data'
  + ' directory (printed once, at the first start), or the console token in its configuration.';

function showError(message) {
  const banner = $('error');
  banner.textContent = message;
  banner.hidden = !message;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({ 'Authorization': 'Bearer ' + state.token },
                           body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
  if (!response.ok) {
    if (response.status === 401) logout(WRONG_TOKEN);
    const error = new Error((data && data.error) || ('HTTP ' + response.status));
    error.status = response.status;
    throw error;
  }
  return data;
}

function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return (unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)) + ' ' + units[unit];
}

function formatRate(bytes) {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return (unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)) + ' ' + units[unit];
}

// The chart's axis: four steps of 1, 2, 2.5 or 5 times a power of ten of one binary unit, the smallest that holds
// the peak, so the labels read 2.5 MiB/s, 5 MiB/s… rather than 2.49 MiB/s, 4.99 MiB/s.
function niceAxis(peak) {
  const stepFor = (scaled) => {
    const power = Math.pow(10, Math.floor(Math.log10(scaled)));
    return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= scaled);
  };
  let unit = 1;
  while (peak / unit >= 1024 && unit < 1024 * 1024 * 1024) unit *= 1024;
  let step = stepFor(peak / unit / 4);
  // The top tick must stay below 1024 of its unit, or it would print in the next unit with decimals.
  if (step * 4 >= 1024 && unit < 1024 * 1024 * 1024) { unit *= 1024; step = stepFor(peak / unit / 4); }
  const ticks = [0, 1, 2, 3, 4].map((i) => i * step * unit);
  return { max: ticks[4], ticks };
}

function formatTick(bytes) {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return String(Math.round(value * 100) / 100) + ' ' + units[unit];
}

function formatLimit(rate) { return rate === 0 ? 'unlimited' : formatRate(rate); }

/** A rate input as the API takes it: empty is 0, digits a number, anything else a string with a unit. */
function rateField(id) {
  const text = $(id).value.trim();
  return text === '' ? 0 : (/^\d+$/.test(text) ? Number(text) : text);
}

async function login(token) {
  state.token = token;
  try {
    const status = await api('GET', '/api/status');
    sessionStorage.setItem('relaygate.token', token);
    showError('');
    enter(status);
  } catch (e) {
    sessionStorage.removeItem('relaygate.token');
    state.token = null;
    showError(e.status === 401 ? 'Login failed. ' + WRONG_TOKEN : 'Login failed: ' + e.message);
  }
}

function logout(message) {
  sessionStorage.removeItem('relaygate.token');
  state.token = null;
  if (state.socket) state.socket.close();
  clearTimeout(state.retry);
  clearInterval(state.statusTimer);
  state.statusTimer = null;
  clearInterval(state.tunnelTimer);
  state.tunnelTimer = null;
  ['local', 'remote', 'traffic', 'tunnels-card'].forEach((id) => { $(id).hidden = true; });
  $('login').hidden = false;
  $('logout').hidden = true;
  $('role').hidden = true;
  showError(message || '');
}

function enter(status) {
  state.role = status.role;
  $('login').hidden = true;
  $('logout').hidden = false;
  $('role').hidden = false;
  $('role').textContent = status.role + ' gateway';
  $('traffic').hidden = false;
  if (status.role === 'local') {
    $('local').hidden = false;
    showLocal(status);
    // The link's state changes without the page doing anything: a refused login, a remote that went away.
    if (!state.statusTimer) {
      state.statusTimer = setInterval(() => { refreshStatus().catch(() => {}); }, 3000);
    }
  } else {
    $('remote').hidden = false;
    loadUsers();
  }
  $('tunnels-card').hidden = false;
  for (const cellEl of document.querySelectorAll('#tunnels .remote-only')) cellEl.hidden = status.role !== 'remote';
  for (const cellEl of document.querySelectorAll('#tunnels .local-only')) cellEl.hidden = status.role !== 'local';
  refreshTunnels().catch(() => {});
  if (!state.tunnelTimer) {
    state.tunnelTimer = setInterval(() => { refreshTunnels().catch(() => {}); }, 2000);
  }
  connect();
}

// ---- tunnels (the reverse tunnel, both roles) ----

async function refreshTunnels() {
  const tunnels = await api('GET', '/api/tunnels');
  const now = performance.now();
  const before = state.tunnelBytes || new Map();
  const seconds = state.tunnelAt ? (now - state.tunnelAt) / 1000 : 0;
  const after = new Map();
  const body = $('tunnels').querySelector('tbody');
  body.replaceChildren();
  for (const t of tunnels) {
    const key = t.user + '/' + t.name;
    after.set(key, [t.bytesUp, t.bytesDown]);
    const last = before.get(key);
    const upRate = last && seconds > 0 ? Math.max(0, t.bytesUp - last[0]) / seconds : 0;
    const downRate = last && seconds > 0 ? Math.max(0, t.bytesDown - last[1]) / seconds : 0;
    const row = document.createElement('tr');
    row.dataset.tunnel = key;
    if (state.role === 'remote') cell(row, t.user);
    cell(row, t.name);
    if (state.role === 'local') cell(row, t.target || '');
    cell(row, t.publicPort ? String(t.publicPort) : '—');
    cell(row, t.reason ? t.state + ': ' + t.reason : t.state).className = 'tunnel-state';
    cell(row, String(t.visitors)).className = 'tunnel-visitors';
    cell(row, formatRate(upRate)).className = 'tunnel-up';
    cell(row, formatRate(downRate)).className = 'tunnel-down';
    if (state.role === 'remote') {
      const actions = cell(row, '');
      actions.className = 'actions';
      const close = document.createElement('button');
      close.textContent = 'Close';
      close.className = 'small danger';
      close.addEventListener('click', () => closeTunnel(t.user, t.name));
      actions.appendChild(close);
    }
    body.appendChild(row);
  }
  state.tunnelBytes = after;
  state.tunnelAt = now;
  $('tunnels').hidden = tunnels.length === 0;
  $('tunnels-empty').hidden = tunnels.length > 0;
}

async function closeTunnel(user, name) {
  if (!confirm('Close ' + name + ' of ' + user + '? Its port stops listening and its visitors are disconnected.')) {
    return;
  }
  try {
    await api('DELETE', '/api/tunnels/' + encodeURIComponent(user) + '/' + encodeURIComponent(name));
    await refreshTunnels();
  } catch (e) {
    showError('Could not close the tunnel: ' + e.message);
  }
}

// ---- local role ----

function showRunning(running) {
  const pill = $('state');
  pill.textContent = running ? 'running' : 'stopped';
  pill.className = 'pill ' + (running ? 'running' : 'stopped');
  $('start').disabled = running;
  $('stop').disabled = !running;
}

function showLocal(status) {
  showRunning(status.running);
  const mixed = status.listeners && status.listeners.mixed;
  $('listeners').textContent = mixed ? 'SOCKS5 and HTTP CONNECT on ' + mixed : 'The proxy listener is closed.';
  const s = status.settings || {};
  $('remote-host').value = s.remoteHost || '';
  $('remote-port').value = s.remotePort || '';
  $('remote-user').value = s.user || '';
  $('remote-password').placeholder = s.passwordSet ? 'unchanged' : 'required with a remote';
  $('remote-fingerprint').value = s.remoteFingerprint || '';
  showLink(status.link);
}

function showLink(link) {
  const line = $('link-state');
  if (!link) {
    line.textContent = 'Tunnels go directly (no remote gateway).';
    line.className = 'muted';
    return;
  }
  let text = 'Link ' + link.state + ': ' + link.links + (link.links === 1 ? ' link, ' : ' links, ')
    + link.streams + (link.streams === 1 ? ' tunnel' : ' tunnels');
  if (link.roundTripMicros >= 0) text += ', round trip ' + (link.roundTripMicros / 1000).toFixed(1) + ' ms';
  if (link.lastProblem) {
    text += '. Last problem' + (link.lastProblemAt ? ' at ' + new Date(link.lastProblemAt).toLocaleTimeString() : '')
      + ': ' + link.lastProblem;
  }
  line.textContent = text;
  line.className = link.state === 'failing' ? 'error-text' : 'muted';
}

async function refreshStatus() {
  showLocal(await api('GET', '/api/status'));
}

$('start').addEventListener('click', async () => {
  try { await api('POST', '/api/proxy/start'); await refreshStatus(); showError(''); }
  catch (e) { showError('Could not start the proxy: ' + e.message); }
});

$('stop').addEventListener('click', async () => {
  try { await api('POST', '/api/proxy/stop'); await refreshStatus(); showError(''); }
  catch (e) { showError('Could not stop the proxy: ' + e.message); }
});

$('settings-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { remoteHost: $('remote-host').value.trim() || null, user: $('remote-user').value.trim() || null };
  if (body.remoteHost) body.remotePort = Number($('remote-port').value);
  if ($('remote-password').value) body.password = $('remote-password').value;
  if ($('remote-fingerprint').value.trim()) body.remoteFingerprint = $('remote-fingerprint').value.trim();
  try {
    await api('PUT', '/api/proxy/settings', body);
    $('remote-password').value = '';
    $('settings-saved').textContent = 'Saved; new connections use it.';
    showError('');
    await refreshStatus();
  } catch (e) {
    showError('Could not save the settings: ' + e.message);
  }
});

// ---- remote role ----

async function loadUsers() {
  try {
    const users = await api('GET', '/api/users');
    state.users = new Map(users.map((u) => [u.name, u]));
    renderUsers();
  } catch (e) {
    showError('Could not load the users: ' + e.message);
  }
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function renderUsers() {
  const body = $('users').querySelector('tbody');
  body.replaceChildren();
  for (const user of state.users.values()) {
    const row = document.createElement('tr');
    row.dataset.user = user.name;
    cell(row, user.name);
    cell(row, formatLimit(user.rate));
    cell(row, user.enabled ? (user.expired ? 'expired' : 'yes') : 'no');
    cell(row, user.quota ? formatBytes(user.quotaUsed) + ' of ' + user.quota : 'none').className = 'quota';
    cell(row, user.expires ? user.expires.replace('T', ' ').replace(/:00Z$|Z$/, ' UTC') : 'never').className = 'expires';
    cell(row, user.maxConnections ? String(user.maxConnections) : 'no cap').className = 'max-connections';
    cell(row, formatRate(user.liveUp || 0)).className = 'live-up';
    cell(row, formatRate(user.liveDown || 0)).className = 'live-down';
    cell(row, String(user.tunnels || 0)).className = 'live-tunnels';
    cell(row, String(user.links || 0)).className = 'live-links';
    const actions = cell(row, '');
    actions.className = 'actions';
    const edit = document.createElement('button');
    edit.textContent = 'Edit';
    edit.className = 'small secondary';
    edit.addEventListener('click', () => startEdit(user));
    const remove = document.createElement('button');
    remove.textContent = 'Delete';
    remove.className = 'small danger';
    remove.addEventListener('click', () => removeUser(user.name));
    actions.append(edit, ' ', remove);
    body.appendChild(row);
  }
}

function startEdit(user) {
  state.editing = user.name;
  $('user-form-title').textContent = 'Edit ' + user.name;
  $('user-name').value = user.name;
  $('user-name').disabled = true;
  $('user-password').value = '';
  $('user-password').placeholder = 'unchanged';
  $('user-rate').value = String(user.rate);
  $('user-rate-up').value = String(user.rateUp || 0);
  $('user-rate-down').value = String(user.rateDown || 0);
  $('user-max-connections').value = String(user.maxConnections || 0);
  $('user-expires').value = user.expires || 'never';
  $('user-quota').value = user.quota || 'none';
  $('user-enabled').checked = user.enabled;
  $('user-expose-ports').value = String(user.exposePorts || 0);
  $('user-submit').textContent = 'Save';
  $('user-cancel').hidden = false;
}

function endEdit() {
  state.editing = null;
  $('user-form').reset();
  $('user-form-title').textContent = 'Add a user';
  $('user-name').disabled = false;
  $('user-password').placeholder = '';
  $('user-submit').textContent = 'Add';
  $('user-cancel').hidden = true;
}

$('user-cancel').addEventListener('click', endEdit);

$('user-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {
    rate: rateField('user-rate'), rateUp: rateField('user-rate-up'), rateDown: rateField('user-rate-down'),
    maxConnections: Number($('user-max-connections').value || 0),
    expires: $('user-expires').value.trim() || 'never', quota: $('user-quota').value.trim() || 'none',
    enabled: $('user-enabled').checked, exposePorts: Number($('user-expose-ports').value || 0),
  };
  if ($('user-password').value) body.password = $('user-password').value;
  try {
    if (state.editing) {
      await api('PUT', '/api/users/' + encodeURIComponent(state.editing), body);
    } else {
      body.name = $('user-name').value.trim();
      await api('POST', '/api/users', body);
    }
    endEdit();
    showError('');
    await loadUsers();
  } catch (e) {
    showError((state.editing ? 'Could not save the user: ' : 'Could not add the user: ') + e.message);
  }
});

async function removeUser(name) {
  if (!confirm('Delete ' + name + '? Their live connections close.')) return;
  try { await api('DELETE', '/api/users/' + encodeURIComponent(name)); showError(''); await loadUsers(); }
  catch (e) { showError('Could not delete the user: ' + e.message); }
}

// ---- live stats ----

async function connect() {
  clearTimeout(state.retry);
  try {
    const { ticket } = await api('POST', '/api/ws-ticket');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(scheme + '//' + location.host + '/ws/stats?ticket=' + encodeURIComponent(ticket));
    state.socket = socket;
    socket.onmessage = (event) => onStats(JSON.parse(event.data));
    socket.onclose = () => {
      if (state.token && state.socket === socket) state.retry = setTimeout(connect, 2000);
    };
  } catch (e) {
    if (state.token) {
      showError('Live statistics unavailable: ' + e.message);
      state.retry = setTimeout(connect, 5000);
    }
  }
}

function onStats(stats) {
  state.up.push(stats.upBytesPerSecond);
  state.down.push(stats.downBytesPerSecond);
  if (state.up.length > HISTORY) { state.up.shift(); state.down.shift(); }
  $('up-rate').textContent = formatRate(stats.upBytesPerSecond);
  $('down-rate').textContent = formatRate(stats.downBytesPerSecond);
  $('connections').textContent = String(stats.openConnections);
  if (state.role === 'local' && typeof stats.running === 'boolean') showRunning(stats.running);
  if (state.role === 'remote') {
    for (const live of stats.users || []) {
      const row = document.querySelector('tr[data-user="' + CSS.escape(live.name) + '"]');
      const user = state.users.get(live.name);
      if (user) { user.liveUp = live.upBytesPerSecond; user.liveDown = live.downBytesPerSecond;
                  user.tunnels = live.tunnels; user.links = live.links; }
      if (row) {
        row.querySelector('.live-up').textContent = formatRate(live.upBytesPerSecond);
        row.querySelector('.live-down').textContent = formatRate(live.downBytesPerSecond);
        row.querySelector('.live-tunnels').textContent = String(live.tunnels);
        row.querySelector('.live-links').textContent = String(live.links);
      }
    }
  }
  draw();
}

function draw() {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const axis = niceAxis(Math.max(1024, ...state.up, ...state.down));
  const max = axis.max;
  canvas.dataset.max = String(Math.max(0, ...state.up, ...state.down));
  canvas.dataset.ticks = JSON.stringify(axis.ticks.map(formatTick));
  canvas.dataset.points = String(state.up.length);
  const left = 70, bottom = height - 20, top = 10, right = width - 10;
  g.strokeStyle = '#d9dee7';
  g.fillStyle = '#5d6778';
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  axis.ticks.forEach((tick) => {
    const y = bottom - (bottom - top) * tick / max;
    g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
    g.fillText(formatTick(tick), 4, y + 4);
  });
  const line = (series, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    series.forEach((value, i) => {
      const x = right - (series.length - 1 - i) * (right - left) / (HISTORY - 1);
      const y = bottom - (bottom - top) * value / max;
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  };
  line(state.up, '#2f6fdf');
  line(state.down, '#1f9d6a');
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  login($('token').value.trim());
});
$('logout').addEventListener('click', () => logout(''));
window.addEventListener('resize', draw);

if (state.token) login(state.token);
