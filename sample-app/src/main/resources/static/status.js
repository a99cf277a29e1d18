// Renders /api/status once a second. No framework, no build: plain DOM updates.
(function () {
    'use strict';
    var REFRESH_MILLIS = 1000;
    var lastOk = 0;

    function $(id) { return document.getElementById(id); }

    function text(id, value) { $(id).textContent = value; }

    function seconds(millis) {
        if (millis === null || millis === undefined) { return '–'; }
        return (millis / 1000).toFixed(1) + ' s';
    }

    function clock(epochMillis) {
        var d = new Date(epochMillis);
        function pad(n, w) { n = String(n); while (n.length < w) { n = '0' + n; } return n; }
        return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2) + '.' +
            pad(d.getMilliseconds(), 3);
    }

    function renderTimeline(entries) {
        var list = $('timeline');
        var items = document.createDocumentFragment();
        if (entries.length === 0) {
            var empty = document.createElement('li');
            empty.className = 'empty';
            empty.textContent = 'Nothing yet.';
            items.appendChild(empty);
        }
        entries.forEach(function (entry) {
            var li = document.createElement('li');
            li.className = entry.kind;
            li.setAttribute('data-kind', entry.kind);
            li.setAttribute('data-election', entry.election);
            var time = document.createElement('span');
            time.className = 'time';
            time.textContent = clock(entry.atMillis);
            var dot = document.createElement('span');
            dot.className = 'dot';
            var what = document.createElement('span');
            what.className = 'text';
            what.textContent = entry.text;
            var tag = document.createElement('span');
            tag.className = 'tag';
            var tags = [];
            if (entry.election) { tags.push(entry.election); }
            if (entry.fencingToken !== null && entry.fencingToken !== undefined) { tags.push('token ' + entry.fencingToken); }
            if (entry.durationMillis !== null && entry.durationMillis !== undefined) { tags.push(entry.durationMillis + ' ms'); }
            tag.textContent = tags.join(' · ');
            li.appendChild(time); li.appendChild(dot); li.appendChild(what); li.appendChild(tag);
            items.appendChild(li);
        });
        list.replaceChildren(items);
    }

    // The default election is '' in the API, as in @LeaderOnly.
    function electionName(name) { return name === '' ? 'default' : name; }

    function cell(row, className, value) {
        var td = document.createElement('td');
        if (className) { td.className = className; }
        if (value !== undefined) { td.textContent = value; }
        row.appendChild(td);
        return td;
    }

    function renderElections(s) {
        var rows = document.createDocumentFragment();
        s.elections.forEach(function (e) {
            var tr = document.createElement('tr');
            tr.setAttribute('data-election', e.name);
            tr.setAttribute('data-holder', e.holder || '');
            tr.setAttribute('data-leader', String(e.leader));
            var name = cell(tr, 'name', electionName(e.name));
            var lease = document.createElement('span');
            lease.className = 'lease mono';
            lease.textContent = e.lease;
            name.appendChild(lease);
            var holder = cell(tr, 'holder mono', e.holder || 'nobody');
            if (e.holder && e.holder === s.self.identity) {
                var you = document.createElement('span');
                you.className = 'you';
                you.textContent = 'this instance';
                holder.appendChild(you);
            }
            cell(tr, 'token', e.fencingToken === null ? '–' : String(e.fencingToken));
            cell(tr, 'role', !e.candidate ? 'not a candidate' : (e.leader ? 'leads' : 'follows'));
            cell(tr, 'runs', String(e.jobRuns));
            rows.appendChild(tr);
        });
        $('elections').replaceChildren(rows);

        var spreading = s.spreading;
        text('self-share', 'This instance leads ' + spreading.share + ' of ' + s.elections.length + ' elections');
        var holders = Object.keys(spreading.shares);
        text('spread-note', spreading.active
            ? '· spread over ' + holders.length + ' live instance' + (holders.length === 1 ? '' : 's') +
              ': each leads ' + Math.floor(s.elections.length / Math.max(1, holders.length)) + ' or ' +
              Math.ceil(s.elections.length / Math.max(1, holders.length)) + ' · moves made here: ' + spreading.moves
            : '· not spreading (it needs leader.spread.enabled, a store that keeps presence and two elections or more):' +
              ' elections per holder, as seen in the leases');
        var shares = document.createDocumentFragment();
        holders.forEach(function (identity) {
            var li = document.createElement('li');
            li.setAttribute('data-identity', identity);
            li.setAttribute('data-share', String(spreading.shares[identity]));
            if (identity === s.self.identity) { li.className = 'self'; }
            var about = spreading.candidates[identity] || {};
            li.textContent = identity + ': ' + spreading.shares[identity] +
                (about.version ? ' (version ' + about.version + ')' : '');
            shares.appendChild(li);
        });
        $('shares').replaceChildren(shares);
    }

    function render(s) {
        var leading = s.self.leader;
        document.body.setAttribute('data-state', leading ? 'leader' : 'follower');
        document.body.setAttribute('data-leader', s.leader.identity || '');
        // leading, following, holding (created the lease, leads after a lease duration), lapsed, free, absent or
        // unreadable
        document.body.setAttribute('data-election', s.election.state);
        document.title = (leading ? '★ leader' : 'follower') + ' · ' + s.self.identity;

        text('lease-name', s.lease);
        text('store', s.store);
        text('self-role', leading ? 'This instance leads'
            : (s.election.state === 'following' ? 'This instance follows' : 'Nobody leads right now'));
        text('banner-detail', s.election.detail);

        text('self-identity', s.self.identity);
        text('self-process', 'pid ' + s.self.pid + (s.self.port ? ' · port ' + s.self.port : ''));

        var leader = $('leader-identity');
        leader.textContent = s.leader.identity || 'nobody';
        if (s.leader.self) {
            var you = document.createElement('span');
            you.className = 'you';
            you.textContent = 'this instance';
            leader.appendChild(you);
        }
        text('leader-note', s.leader.renewTime
            ? 'renewed at ' + clock(Date.parse(s.leader.renewTime)) + ' by its own clock' : '');
        text('fencing-token', s.leader.fencingToken === null ? '–' : String(s.leader.fencingToken));

        // On the leader: age of its own last renew. On a follower: how long ago it saw the lease change, which is
        // what decides when it may take over (its own clock, never the holder's).
        var age = leading ? s.timing.sinceLastRenewMillis : s.timing.sinceObservedChangeMillis;
        text('renew-title', leading ? 'Last renew (sent by this instance)' : 'Lease last changed (seen here)');
        text('renew-age', age === null ? '–' : seconds(age) + ' ago');
        var limit = leading ? s.timing.renewDeadlineMillis : s.timing.leaseDurationMillis;
        var fill = $('renew-meter');
        var ratio = age === null ? 0 : Math.min(1, age / s.timing.leaseDurationMillis);
        fill.style.width = (ratio * 100).toFixed(1) + '%';
        fill.className = 'meter-fill' + (age !== null && age >= limit ? ' bad'
            : (age !== null && age >= s.timing.retryPeriodMillis * 2 ? ' warn' : ''));
        $('renew-deadline-mark').style.left =
            (100 * s.timing.renewDeadlineMillis / s.timing.leaseDurationMillis).toFixed(1) + '%';
        text('renew-note', leading
            ? 'leads while under the renew deadline (' + seconds(s.timing.renewDeadlineMillis) + ')'
            : 'takes over at the lease duration (' + seconds(s.timing.leaseDurationMillis) + ')' +
              (s.timing.watching ? ', watching the lease' : ', polling every ' + seconds(s.timing.retryPeriodMillis)));

        text('job-runs', String(s.work.jobRuns));
        text('worker-state', s.work.workerRunning
            ? (leading ? 'running, ' + s.work.heartbeats + ' heartbeats' : 'idle') : 'stopped');
        text('timings', 'lease ' + seconds(s.timing.leaseDurationMillis) + ' · renew deadline ' +
            seconds(s.timing.renewDeadlineMillis) + ' · retry ' + seconds(s.timing.retryPeriodMillis));

        renderElections(s);
        renderTimeline(s.timeline);
    }

    function refresh() {
        fetch('api/status', { cache: 'no-store' })
            .then(function (response) {
                if (!response.ok) { throw new Error('HTTP ' + response.status); }
                return response.json();
            })
            .then(function (status) {
                lastOk = Date.now();
                render(status);
                var connection = $('connection');
                connection.className = 'connection ok';
                connection.textContent = 'live';
            })
            .catch(function (error) {
                document.body.setAttribute('data-state', 'offline');
                text('self-role', 'This instance is not answering');
                text('banner-detail', lastOk ? 'Last answer ' + seconds(Date.now() - lastOk) + ' ago (' + error.message +
                    '). Stopped or killed? Open another instance\'s page.' : String(error.message));
                var connection = $('connection');
                connection.className = 'connection lost';
                connection.textContent = 'connection lost';
            })
            .finally(function () { setTimeout(refresh, REFRESH_MILLIS); });
    }

    refresh();
}());
