namespace HaMaster.Server.Hosting;

/// <summary>
/// The live status page: one static HTML document that polls <c>/api/cluster</c> every 2 s, with
/// the credential the master asks for (cluster secret or bearer token) when security is on.
/// </summary>
internal static class StatusPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>HaMaster status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f7f8fa; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  .muted { color: #667; } .bad { color: #b00020; } .ok { color: #0a7a32; }
  table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0001; min-width: 40rem; }
  th, td { padding: .35rem .7rem; border-bottom: 1px solid #e3e6ea; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child, td.l, th.l { text-align: left; }
  tr.leader td { background: #eef7ee; font-weight: 600; }
  .cards { display: flex; gap: .8rem; flex-wrap: wrap; }
  .card { background: #fff; padding: .6rem 1rem; box-shadow: 0 1px 2px #0001; min-width: 8rem; }
  .card b { display: block; font-size: 1.3rem; }
</style>
</head>
<body>
<h1>HaMaster <span id="self" class="muted"></span></h1>
<div class="muted">Refreshes every 2 s. Updated <span id="updated">never</span> <span id="error" class="bad"></span></div>
<form id="login" hidden>This master's API needs a credential:
  <input id="token" type="password" autocomplete="off" placeholder="cluster secret or bearer token" size="40">
  <button>Use</button> <span class="muted">(kept in this tab only; or open the page as /#token=...)</span></form>
<h2>Overview</h2>
<div class="cards">
  <div class="card">Leader<b id="leader">?</b></div>
  <div class="card">Term<b id="term">?</b></div>
  <div class="card">Inodes<b id="inodes">?</b></div>
  <div class="card">Blocks<b id="blocks">?</b></div>
  <div class="card">Workers<b id="workers">?</b></div>
  <div class="card">Snapshot<b id="snapshot">?</b></div>
</div>
<h2>Masters</h2>
<table id="members"><thead><tr>
  <th class="l">Id</th><th class="l">Client</th><th class="l">Role</th><th>Voter</th><th>Term</th>
  <th>Last log</th><th>Commit</th><th>Applied</th><th>Lag</th><th>Snapshot</th><th class="l">Web</th>
</tr></thead><tbody></tbody></table>
<h2>Workers</h2>
<table id="workerTable"><thead><tr>
  <th class="l">Id</th><th class="l">Address</th><th class="l">State</th><th>Capacity</th><th>Used</th><th>Blocks</th><th class="l">Last heartbeat</th>
</tr></thead><tbody></tbody></table>
<h2>Mounts</h2>
<table id="mountTable"><thead><tr>
  <th class="l">Path</th><th class="l">Store</th><th class="l">Mode</th><th class="l">Shared</th><th class="l">Options</th><th class="l">Mounted</th>
</tr></thead><tbody></tbody></table>
<h2>Recent leadership changes (this master's view)</h2>
<table id="changes"><thead><tr><th class="l">When</th><th>Term</th><th>Leader</th><th class="l">Role here</th></tr></thead><tbody></tbody></table>
<script>
const $ = id => document.getElementById(id);
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const bytes = n => { const u = ['B','KiB','MiB','GiB','TiB']; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + ' ' + u[i]; };
function rows(tbody, items, render) { tbody.innerHTML = items.map(render).join('') || '<tr><td class="l muted" colspan="11">none</td></tr>'; }
// With security on, /api/cluster needs the cluster secret or a bearer token: taken from the URL's
// fragment (#token=..., never sent to the server, removed from the address bar) or the form, and
// kept in this tab's sessionStorage only.
const tokenKey = 'hamaster-token';
{
  const m = location.hash.match(/(?:^#|&)token=([^&]*)/);
  if (m) { sessionStorage.setItem(tokenKey, decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname + location.search); }
}
$('login').addEventListener('submit', e => { e.preventDefault(); sessionStorage.setItem(tokenKey, $('token').value.trim()); $('token').value = ''; refresh(); });
function authHeaders() { const t = sessionStorage.getItem(tokenKey); return t ? { 'Authorization': 'Bearer ' + t } : {}; }
async function refresh() {
  try {
    const r = await fetch('/api/cluster', { cache: 'no-store', headers: authHeaders() });
    $('login').hidden = r.status !== 401;
    if (r.status === 401) throw new Error('authentication required: ' + (await r.text()).trim());
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const c = await r.json();
    $('self').textContent = 'master ' + c.self.id + ' (' + c.self.role + ')';
    $('leader').textContent = c.leaderId ? c.leaderId : 'none';
    $('leader').dataset.leaderId = c.leaderId;
    $('term').textContent = c.term;
    $('inodes').textContent = c.self.inodes;
    $('blocks').textContent = c.self.blocks;
    $('workers').textContent = c.workers.filter(w => w.state === 'live').length + ' live / ' + c.workers.length;
    $('snapshot').textContent = c.self.snapshotIndex ? ('#' + c.self.snapshotIndex + (c.self.snapshotAgeSeconds != null ? ', ' + Math.round(c.self.snapshotAgeSeconds) + ' s ago' : '')) : 'none';
    const maxCommit = Math.max(0, ...c.members.map(m => m.commitIndex));
    rows($('members').tBodies[0], c.members, m => '<tr class="' + (m.role === 'leader' ? 'leader' : '') + '" data-id="' + m.id + '" data-role="' + esc(m.role) + '">' +
      '<td>' + m.id + '</td><td class="l">' + esc(m.clientAddress) + '</td><td class="l ' + (m.role === 'unreachable' ? 'bad' : '') + '">' + esc(m.role) + '</td>' +
      '<td>' + (m.voter ? 'yes' : 'no') + '</td><td>' + m.term + '</td><td>' + m.lastLogIndex + '</td><td>' + m.commitIndex + '</td>' +
      '<td>' + m.appliedIndex + '</td><td>' + (m.role === 'unreachable' ? '?' : Math.max(0, maxCommit - m.appliedIndex)) + '</td><td>' + m.snapshotIndex + '</td>' +
      '<td class="l">' + (m.webAddress ? '<a href="http://' + esc(m.webAddress) + '/">' + esc(m.webAddress) + '</a>' : '') + '</td></tr>');
    rows($('workerTable').tBodies[0], c.workers, w => '<tr><td>' + w.id + '</td><td class="l">' + esc(w.address) + '</td><td class="l ' + (w.state === 'live' ? 'ok' : 'bad') + '">' + w.state + '</td>' +
      '<td>' + bytes(w.capacityBytes) + '</td><td>' + bytes(w.usedBytes) + '</td><td>' + w.blocks + '</td><td class="l">' + (w.lastHeartbeatMs ? new Date(w.lastHeartbeatMs).toLocaleTimeString() : '-') + '</td></tr>');
    rows($('mountTable').tBodies[0], c.mounts || [], m => '<tr><td class="l">' + esc(m.path) + '</td><td class="l">' + esc(m.ufsUri) + '</td><td class="l">' + (m.readOnly ? 'read-only' : 'read-write') + '</td>' +
      '<td class="l">' + (m.shared ? 'yes' : 'no') + '</td><td class="l">' + esc(m.options.join(', ') || '-') + '</td><td class="l">' + new Date(m.mountedAtMs).toLocaleString() + '</td></tr>');
    rows($('changes').tBodies[0], c.leadershipChanges, e => '<tr><td class="l">' + new Date(e.at).toLocaleTimeString() + '</td><td>' + e.term + '</td><td>' + (e.leaderId || 'none') + '</td><td class="l">' + esc(e.role) + '</td></tr>');
    $('updated').textContent = new Date().toLocaleTimeString();
    $('error').textContent = '';
  } catch (e) {
    $('error').textContent = 'refresh failed: ' + e.message;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
""";
}
