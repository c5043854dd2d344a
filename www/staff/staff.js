/* zorgstatus call-centre workspace (www/staff/): sign in with a staff token (kept in
 * sessionStorage only), search a provider, see every policy and care type with the statements
 * behind each status, turn the view into what was shown at a moment, and the feeds' health.
 * No build step, no external resources; every text from the API is set with textContent.
 * It asks for and keeps no data about callers. */
(function () {
	'use strict';

	var KEY = 'zorgstatus-staff-token', LANG_KEY = 'zorgstatus-staff-lang';

	var T = {
		nl: {
			title: 'Zorgstatus – belwerkplek', skip: 'Naar de inhoud', signOut: 'Afmelden',
			signInTitle: 'Aanmelden', tokenLabel: 'Uw toegangscode',
			tokenHint: 'De code blijft alleen in dit tabblad bewaard, tot u zich afmeldt of het tabblad sluit.',
			signIn: 'Aanmelden', signingIn: 'Bezig met aanmelden…',
			privacy: 'Deze werkplek vraagt en bewaart geen gegevens van bellers: geen naam, geen BSN, geen polisnummer.',
			wrongToken: 'Deze toegangscode is niet juist. Controleer de code en probeer het opnieuw.',
			emptyToken: 'Vul uw toegangscode in.',
			revoked: 'U bent afgemeld: uw toegang is ingetrokken of niet meer geldig. Meld u opnieuw aan.',
			signedOut: 'U bent afgemeld.',
			tooMany: 'Te veel mislukte pogingen vanaf deze computer. Probeer het over een minuut opnieuw.',
			network: 'De zorgstatus-dienst is niet bereikbaar. Probeer het zo opnieuw.',
			signedInAs: function (n, r) { return 'Aangemeld als ' + n + (r === 'admin' ? ' (beheerder)' : ''); },
			searchTitle: 'Zorgaanbieder zoeken', searchLabel: 'Naam, plaats, postcode of AGB-code',
			resultsLabel: 'Zoekresultaten', searching: 'Zoeken…', noResults: 'Geen zorgaanbieder gevonden.',
			results: function (n) { return n + (n === 1 ? ' zorgaanbieder gevonden' : ' zorgaanbieders gevonden') + '. Kies met pijltjes en Enter.'; },
			timeTitle: 'Wat toonden we op …', timeLabel: 'Datum en tijd (uw tijdzone)',
			timeShow: 'Toon dat moment', timeNow: 'Terug naar nu', badMoment: 'Vul een datum en tijd in.',
			viewNow: 'U ziet de antwoorden van nu.',
			viewAt: function (m) { return 'U ziet wat wij toonden op ' + m + '.'; },
			atNote: 'Dit is het antwoord zoals het toen werd getoond. De bronverklaringen eronder zijn die van nu.',
			feedsTitle: 'Bronnen: versheid en fouten', auditTitle: 'Wie keek wanneer (auditlog)', refresh: 'Vernieuwen',
			noscript: 'Deze werkplek heeft JavaScript nodig.',
			agb: 'AGB', year: function (y) { return 'Contractjaar ' + y; },
			tableCaption: function (y) { return 'Alle polissen en zorgsoorten in ' + y + '. Rijen met een conflict of een verouderde bron zijn gemarkeerd.'; },
			cInsurer: 'Verzekeraar', cPolicy: 'Polis', cCare: 'Zorgsoort', cStatus: 'Status', cMeaning: 'Wat betekent dit',
			cSignals: 'Let op', cSince: 'Getoond sinds', cDetails: 'Onderbouwing',
			conflict: 'Conflict', stale: 'Verouderde bron', providerOnly: 'Alleen zorgaanbieder', none: '–',
			show: 'Toon', hide: 'Verberg',
			showDetails: function (p, c) { return 'onderbouwing van ' + p + ', ' + c; },
			statements: 'Verklaringen van de bronnen',
			sCaption: 'Elke verklaring achter deze status, met niveau, datum, feed en regel.',
			sSource: 'Bron', sLevel: 'Niveau', sStatus: 'Zegt', sDate: 'Eigen datum', sSaid: 'Gemeld op',
			sFeed: 'Feed en regel', sRole: 'Gebruikt', noStatements: 'Geen verklaringen: niemand meldde iets.',
			line: 'regel',
			levels: { policy: 'polis', insurer: 'verzekeraar', concern: 'concern' },
			sides: { insurer: 'Verzekeraar', provider: 'Zorgaanbieder' },
			roles: { decides: 'Beslist de status', confirms: 'Bevestigt', overruled: 'Overstemd', ignored: 'Genegeerd' },
			rules: {
				more_specific: 'een specifiekere verklaring van dezelfde kant gaat voor (polis > verzekeraar > concern)',
				later_statement: 'een latere verklaring op hetzelfde niveau gaat voor',
				feed_order: 'zelfde niveau en moment: de eerste feed gaat voor',
				insurer_decides: 'de verklaring van de verzekeraar beslist; de zorgaanbieder zegt iets anders',
				unknown_ignored: 'status onbekend telt niet mee'
			},
			consequence: 'Uitleg zoals getoond', sources: 'Bronnen zoals getoond', checkedOn: 'gecontroleerd op',
			fName: 'Bron', fKind: 'Soort', fSuccess: 'Laatst gelukt', fState: 'Toestand', fError: 'Laatste fout',
			fRows: 'Regelfouten', fOk: 'In orde', fStale: 'Verouderd', fFailing: 'Ophalen mislukt',
			fCaption: 'Alle bronnen. Verouderde en mislukte bronnen zijn gemarkeerd.',
			kinds: { insurer: 'verzekeraar', provider: 'zorgaanbieder' },
			rowErrors: function (n) { return n + (n === 1 ? ' regelfout' : ' regelfouten'); },
			rowError: function (e) { return 'Regel ' + e.line + (e.field ? ', veld ' + e.field : '') + ': ' + (e.reason || ''); },
			never: 'nooit',
			aWhen: 'Wanneer', aWho: 'Wie', aWhat: 'Wat', aAgb: 'Zorgaanbieder', aAt: 'Gevraagd moment',
			aCaption: 'De laatste opzoekingen door medewerkers (geen gegevens van bellers).',
			aNone: 'Nog geen opzoekingen.', now: 'nu',
			actions: { provider: 'aanbieder bekeken', history: 'geschiedenis bekeken' },
			loading: 'Laden…'
		},
		en: {
			title: 'Zorgstatus – call-centre workspace', skip: 'Skip to content', signOut: 'Sign out',
			signInTitle: 'Sign in', tokenLabel: 'Your access token',
			tokenHint: 'The token is kept in this tab only, until you sign out or close the tab.',
			signIn: 'Sign in', signingIn: 'Signing in…',
			privacy: 'This workspace asks for and keeps no data about callers: no name, no BSN, no policy number.',
			wrongToken: 'This access token is not right. Check it and try again.',
			emptyToken: 'Enter your access token.',
			revoked: 'You have been signed out: your access was revoked or is no longer valid. Sign in again.',
			signedOut: 'You are signed out.',
			tooMany: 'Too many failed attempts from this computer. Try again in a minute.',
			network: 'The zorgstatus service cannot be reached. Try again shortly.',
			signedInAs: function (n, r) { return 'Signed in as ' + n + (r === 'admin' ? ' (administrator)' : ''); },
			searchTitle: 'Find a care provider', searchLabel: 'Name, town, postcode or AGB code',
			resultsLabel: 'Search results', searching: 'Searching…', noResults: 'No care provider found.',
			results: function (n) { return n + (n === 1 ? ' care provider found' : ' care providers found') + '. Choose with the arrow keys and Enter.'; },
			timeTitle: 'What did we show on …', timeLabel: 'Date and time (your time zone)',
			timeShow: 'Show that moment', timeNow: 'Back to now', badMoment: 'Enter a date and time.',
			viewNow: 'You see the answers of now.',
			viewAt: function (m) { return 'You see what we showed on ' + m + '.'; },
			atNote: 'This is the answer as it was shown then. The source statements below are those of now.',
			feedsTitle: 'Sources: freshness and errors', auditTitle: 'Who looked when (audit log)', refresh: 'Refresh',
			noscript: 'This workspace needs JavaScript.',
			agb: 'AGB', year: function (y) { return 'Contract year ' + y; },
			tableCaption: function (y) { return 'Every policy and care type in ' + y + '. Rows with a conflict or a stale source are marked.'; },
			cInsurer: 'Insurer', cPolicy: 'Policy', cCare: 'Care type', cStatus: 'Status', cMeaning: 'What it means',
			cSignals: 'Attention', cSince: 'Shown since', cDetails: 'Evidence',
			conflict: 'Conflict', stale: 'Stale source', providerOnly: 'Care provider only', none: '–',
			show: 'Show', hide: 'Hide',
			showDetails: function (p, c) { return 'evidence for ' + p + ', ' + c; },
			statements: 'Statements of the sources',
			sCaption: 'Every statement behind this status, with level, date, feed and line.',
			sSource: 'Source', sLevel: 'Level', sStatus: 'Says', sDate: 'Own date', sSaid: 'Reported on',
			sFeed: 'Feed and line', sRole: 'Used', noStatements: 'No statements: nobody reported anything.',
			line: 'line',
			levels: { policy: 'policy', insurer: 'insurer', concern: 'concern' },
			sides: { insurer: 'Insurer', provider: 'Care provider' },
			roles: { decides: 'Decides the status', confirms: 'Confirms', overruled: 'Overruled', ignored: 'Ignored' },
			rules: {
				more_specific: 'a more specific statement of the same side wins (policy > insurer > concern)',
				later_statement: 'a later statement at the same level wins',
				feed_order: 'same level and moment: the first feed wins',
				insurer_decides: 'the insurer\'s statement decides; the care provider says otherwise',
				unknown_ignored: 'status unknown does not count'
			},
			consequence: 'Explanation as shown', sources: 'Sources as shown', checkedOn: 'checked on',
			fName: 'Source', fKind: 'Kind', fSuccess: 'Last success', fState: 'State', fError: 'Last error',
			fRows: 'Row errors', fOk: 'Fine', fStale: 'Stale', fFailing: 'Fetch failing',
			fCaption: 'Every source. Stale and failing sources are marked.',
			kinds: { insurer: 'insurer', provider: 'care provider' },
			rowErrors: function (n) { return n + (n === 1 ? ' row error' : ' row errors'); },
			rowError: function (e) { return 'Line ' + e.line + (e.field ? ', field ' + e.field : '') + ': ' + (e.reason || ''); },
			never: 'never',
			aWhen: 'When', aWho: 'Who', aWhat: 'What', aAgb: 'Care provider', aAt: 'Moment asked',
			aCaption: 'The latest look-ups by staff (no data about callers).',
			aNone: 'No look-ups yet.', now: 'now',
			actions: { provider: 'provider viewed', history: 'history viewed' },
			loading: 'Loading…'
		}
	};

	var state = { lang: 'nl', token: null, me: null, agb: null, at: null, labels: null, provider: null,
		seq: 0, searchSeq: 0, timer: null, active: -1 };

	function $(id) { return document.getElementById(id); }
	function t() { return T[state.lang]; }

	/* h('tag', {attrs}, children...): text children are text nodes, never markup */
	function h(tag, attrs) {
		var el = document.createElement(tag);
		Object.keys(attrs || {}).forEach(function (k) {
			var v = attrs[k];
			if (v === null || v === undefined || v === false)
				return;
			if (k === 'className')
				el.className = v;
			else if (k === 'text')
				el.textContent = v;
			else if (k.slice(0, 2) === 'on')
				el.addEventListener(k.slice(2), v);
			else
				el.setAttribute(k, v === true ? '' : v);
		});
		for (var i = 2; i < arguments.length; i++) {
			var c = arguments[i];
			if (c === null || c === undefined)
				continue;
			el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
		}
		return el;
	}
	function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

	function storage() {
		try { return window.sessionStorage; } catch (e) { return null; }
	}

	/* ---- the API ----------------------------------------------------------------------------- */

	function ApiError(status, body) {
		this.status = status;
		this.body = body;
	}

	function qs(params) {
		var p = [];
		Object.keys(params || {}).forEach(function (k) {
			if (params[k] !== null && params[k] !== undefined && params[k] !== '')
				p.push(encodeURIComponent(k) + '=' + encodeURIComponent(params[k]));
		});
		return p.length ? '?' + p.join('&') : '';
	}

	/* GET path with the token (staff) or without (public); 401 on a staff call signs out */
	function get(path, params, staff, token) {
		var headers = { 'Accept': 'application/json', 'Accept-Language': state.lang };
		var tok = token || state.token;
		if (staff) {
			if (!tok)
				return Promise.reject(new ApiError(401, null));
			headers.Authorization = 'Bearer ' + tok;
		}
		return fetch(path + qs(params), { headers: headers, cache: 'no-store', credentials: 'omit' })
			.then(function (r) {
				return r.json().then(function (b) { return { status: r.status, body: b }; },
					function () { return { status: r.status, body: null }; });
			}, function () { throw new ApiError(0, null); })
			.then(function (res) {
				if (res.status >= 400)
					throw new ApiError(res.status, res.body);
				return res.body;
			});
	}

	function staffGet(path, params) {
		return get(path, params, true).then(null, function (e) {
			if (e instanceof ApiError && e.status === 401 && state.token)
				signOut(t().revoked);
			throw e;
		});
	}

	function errorText(e) {
		if (!(e instanceof ApiError) || e.status === 0)
			return t().network;
		if (e.status === 429)
			return t().tooMany;
		var b = e.body && e.body.error;
		return (b && (b.text || b.message)) || t().network;
	}

	/* ---- language ---------------------------------------------------------------------------- */

	function applyLang() {
		var tx = t();
		document.documentElement.lang = state.lang;
		document.title = tx.title;
		Array.prototype.forEach.call(document.querySelectorAll('[data-t]'), function (el) {
			var v = tx[el.getAttribute('data-t')];
			if (typeof v === 'string')
				el.textContent = v;
		});
		Array.prototype.forEach.call(document.querySelectorAll('[data-t-label]'), function (el) {
			el.setAttribute('aria-label', tx[el.getAttribute('data-t-label')]);
		});
		var b = $('st-lang');
		b.textContent = state.lang === 'nl' ? 'English' : 'Nederlands';
		b.setAttribute('lang', state.lang === 'nl' ? 'en' : 'nl');
		if (state.me)
			$('st-who').textContent = tx.signedInAs(state.me.name, state.me.role);
		showView();
	}

	function loadLabels() {
		var lang = state.lang;
		return get('/v1/labels', { lang: lang }, false).then(function (l) {
			if (lang === state.lang)
				state.labels = l;
		}, function () { });
	}

	function label(group, code) {
		var g = state.labels && state.labels[group];
		return (g && g[code]) || code || '';
	}

	/* ---- signing in and out ------------------------------------------------------------------ */

	function showSignedIn() {
		$('st-signin').hidden = true;
		$('st-app').hidden = false;
		$('st-signout').hidden = false;
		$('st-who').textContent = t().signedInAs(state.me.name, state.me.role);
		$('st-audit').hidden = state.me.role !== 'admin';
		loadLabels().then(function () {
			loadFeeds();
			if (state.me.role === 'admin')
				loadAudit();
		});
	}

	function signIn(token) {
		var msg = $('st-signin-msg');
		msg.textContent = t().signingIn;
		get('/v1/staff/me', { lang: state.lang }, true, token).then(function (me) {
			state.token = token;
			state.me = me;
			var s = storage();
			if (s)
				s.setItem(KEY, token);
			$('st-token').value = '';
			msg.textContent = '';
			showSignedIn();
			$('st-q').focus();
		}, function (e) {
			msg.textContent = e instanceof ApiError && e.status === 401 ? t().wrongToken : errorText(e);
			$('st-token').setAttribute('aria-invalid', 'true');
			$('st-token').focus();
		});
	}

	/* Forget the token and every staff answer on the page. */
	function signOut(message) {
		var s = storage();
		if (s)
			s.removeItem(KEY);
		state.token = null;
		state.me = null;
		state.agb = null;
		state.provider = null;
		state.seq++;
		['st-provider-body', 'st-feeds-body', 'st-audit-body', 'st-results'].forEach(function (id) { clear($(id)); });
		$('st-provider-h').textContent = '';
		$('st-provider-meta').textContent = '';
		$('st-provider').hidden = true;
		$('st-error').textContent = '';
		$('st-who').textContent = '';
		$('st-q').value = '';
		$('st-app').hidden = true;
		$('st-signout').hidden = true;
		$('st-signin').hidden = false;
		$('st-signin-msg').textContent = message || '';
		$('st-token').focus();
	}

	/* ---- search (the public widget's search: /v1/search) ------------------------------------- */

	function options() { return Array.prototype.slice.call($('st-results').querySelectorAll('[role=option]')); }

	function setActive(i) {
		var opts = options(), input = $('st-q');
		state.active = opts.length ? Math.max(-1, Math.min(i, opts.length - 1)) : -1;
		opts.forEach(function (o, k) {
			o.setAttribute('aria-selected', k === state.active ? 'true' : 'false');
			o.classList.toggle('st-active', k === state.active);
		});
		input.setAttribute('aria-expanded', opts.length ? 'true' : 'false');
		if (state.active >= 0)
			input.setAttribute('aria-activedescendant', opts[state.active].id);
		else
			input.removeAttribute('aria-activedescendant');
	}

	function closeResults() {
		clear($('st-results'));
		setActive(-1);
	}

	function search(q) {
		var seq = ++state.searchSeq, status = $('st-search-status');
		q = String(q || '').replace(/\s+/g, ' ').trim();
		if (q.length < 2) {
			closeResults();
			status.textContent = '';
			return;
		}
		status.textContent = t().searching;
		get('/v1/search', { q: q, limit: 10, lang: state.lang }, false).then(function (data) {
			if (seq !== state.searchSeq || !state.token)
				return;
			var list = $('st-results'), results = (data && data.results) || [];
			clear(list);
			results.forEach(function (r, i) {
				var where = r.matched_location && r.matched_location.city ? r.matched_location.city : r.city;
				list.appendChild(h('li', {
					role: 'option', id: 'st-opt-' + i, className: 'st-result', 'data-agb': r.agb,
					'aria-selected': 'false',
					onclick: function () { pick(r.agb); }
				}, h('span', { className: 'st-result-name', text: r.name }),
				h('span', { className: 'st-result-meta', text: [label('provider_kind', r.kind), where, t().agb + ' ' + r.agb].filter(Boolean).join(' · ') })));
			});
			status.textContent = results.length ? t().results(results.length) : t().noResults;
			setActive(-1);
		}, function (e) {
			if (seq === state.searchSeq)
				status.textContent = errorText(e);
		});
	}

	function pick(agb) {
		closeResults();
		$('st-search-status').textContent = '';
		state.agb = agb;
		loadProvider(true);
	}

	function comboKey(ev) {
		var opts = options();
		if (ev.key === 'ArrowDown') {
			ev.preventDefault();
			setActive(state.active + 1);
		} else if (ev.key === 'ArrowUp') {
			ev.preventDefault();
			setActive(state.active - 1);
		} else if (ev.key === 'Enter') {
			ev.preventDefault();
			var i = state.active >= 0 ? state.active : opts.length === 1 ? 0 : -1;
			if (i >= 0)
				pick(opts[i].getAttribute('data-agb'));
			else if (/^\d{8}$/.test($('st-q').value.trim()))
				pick($('st-q').value.trim());
		} else if (ev.key === 'Escape') {
			closeResults();
		}
	}

	/* ---- the time picker ----------------------------------------------------------------------- */

	function fmtMoment(iso) {
		var d = new Date(iso);
		if (isNaN(d.getTime()))
			return iso || '';
		try {
			return d.toLocaleString(state.lang === 'nl' ? 'nl-NL' : 'en-GB',
				{ dateStyle: 'long', timeStyle: 'medium' });
		} catch (e) {
			return d.toString();
		}
	}

	function showView() {
		$('st-view').textContent = state.at ? t().viewAt(fmtMoment(state.at)) : t().viewNow;
	}

	function setMoment(value) {
		if (!value) {
			state.at = null;
		} else {
			var d = new Date(value); /* datetime-local: the browser's time zone */
			if (isNaN(d.getTime())) {
				$('st-view').textContent = t().badMoment;
				return;
			}
			state.at = d.toISOString().replace(/\.\d+Z$/, 'Z');
		}
		showView();
		if (state.agb)
			loadProvider(false);
	}

	/* ---- the provider view --------------------------------------------------------------------- */

	function badge(cls, text) { return h('span', { className: 'st-badge ' + cls, text: text }); }

	function statementsTable(list) {
		var tx = t();
		if (!list || !list.length)
			return h('p', { className: 'st-hint', text: tx.noStatements });
		var body = h('tbody');
		list.forEach(function (s) {
			var role = tx.roles[s.role] || s.role;
			var roleCell = h('td', { className: 'st-role st-role-' + s.role }, h('strong', { text: role }));
			if (s.overruled_by)
				roleCell.appendChild(h('span', { className: 'st-rule', 'data-rule': s.overruled_by, text: ': ' + (tx.rules[s.overruled_by] || s.overruled_by) }));
			body.appendChild(h('tr', { className: 'st-statement st-' + s.role, 'data-source': s.source },
				h('th', { scope: 'row', text: (tx.sides[s.source] || s.source) + (s.name ? ' – ' + s.name : '') }),
				h('td', { className: 'st-level', text: (tx.levels[s.level] || s.level) + ' ' + (s.scope_id || '') }),
				h('td', { className: 'st-says', text: label('status', s.status) }),
				h('td', { text: s.date || tx.none }),
				h('td', { text: s.said_at ? fmtMoment(s.said_at) : tx.none }),
				h('td', { className: 'st-feedline', text: (s.feed || '') + (s.line !== null && s.line !== undefined ? ', ' + tx.line + ' ' + s.line : '') }),
				roleCell));
		});
		return h('table', { className: 'st-table st-statements' },
			h('caption', { text: tx.sCaption }),
			h('thead', {}, h('tr', {},
				h('th', { scope: 'col', text: tx.sSource }), h('th', { scope: 'col', text: tx.sLevel }),
				h('th', { scope: 'col', text: tx.sStatus }), h('th', { scope: 'col', text: tx.sDate }),
				h('th', { scope: 'col', text: tx.sSaid }), h('th', { scope: 'col', text: tx.sFeed }),
				h('th', { scope: 'col', text: tx.sRole }))),
			body);
	}

	function detailsContent(st) {
		var tx = t(), c = st.consequence || {}, box = h('div', { className: 'st-details-box' });
		box.appendChild(h('h4', { text: tx.consequence }));
		if (c.headline)
			box.appendChild(h('p', { className: 'st-headline', text: c.headline }));
		if (c.text)
			box.appendChild(h('p', { className: 'st-consequence', 'data-code': c.code || '', text: c.text }));
		(c.warnings || []).forEach(function (w) { box.appendChild(h('p', { className: 'st-warning', text: w.text })); });
		if (st.sources && st.sources.length) {
			box.appendChild(h('h4', { text: tx.sources }));
			var ul = h('ul', { className: 'st-sources' });
			st.sources.forEach(function (s) {
				ul.appendChild(h('li', { text: (tx.sides[s.kind] || s.kind) + ' ' + (s.name || s.feed || '') + ': ' +
					label('status', s.status) + (s.checked_on ? ' (' + tx.checkedOn + ' ' + s.checked_on + ')' : '') +
					(s.stale ? ' – ' + tx.stale : '') }));
			});
			box.appendChild(ul);
		}
		if (st.statements) {
			box.appendChild(h('h4', { text: tx.statements }));
			box.appendChild(statementsTable(st.statements));
		}
		return box;
	}

	function yearTable(y, idx) {
		var tx = t(), body = h('tbody'), n = 0;
		(y.policies || []).forEach(function (p) {
			var pol = p.policy || {};
			(p.statuses || []).forEach(function (st) {
				var f = st.flags || {}, rid = 'st-d-' + idx + '-' + (n++);
				var signals = h('td', { className: 'st-signals' });
				if (f.conflict)
					signals.appendChild(badge('st-b-conflict', tx.conflict));
				if (f.stale)
					signals.appendChild(badge('st-b-stale', tx.stale));
				if (f.provider_only)
					signals.appendChild(badge('st-b-provider', tx.providerOnly));
				if (!signals.firstChild)
					signals.textContent = tx.none;
				var care = label('care_type', st.care_type), polName = pol.name || pol.id;
				/* the visible word first, then (for screen readers) which row it opens */
				var btnText = h('span', { text: tx.show });
				var btn = h('button', {
					type: 'button', className: 'st-button st-small st-toggle', 'aria-expanded': 'false',
					'aria-controls': rid
				}, btnText, h('span', { className: 'st-vh', text: ' ' + tx.showDetails(polName, care) }));
				var detail = h('tr', { id: rid, className: 'st-detail', hidden: true },
					h('td', { colspan: '8' }, detailsContent(st)));
				btn.addEventListener('click', function () {
					var open = btn.getAttribute('aria-expanded') !== 'true';
					btn.setAttribute('aria-expanded', open ? 'true' : 'false');
					btnText.textContent = open ? t().hide : t().show;
					detail.hidden = !open;
				});
				var cls = ['st-status-row'];
				if (f.conflict)
					cls.push('st-conflict');
				if (f.stale)
					cls.push('st-stale');
				body.appendChild(h('tr', { className: cls.join(' '), 'data-policy': pol.id, 'data-care': st.care_type, 'data-status': st.status },
					h('td', { text: (pol.insurer && pol.insurer.name) || '' }),
					h('th', { scope: 'row', text: polName }),
					h('td', { text: care }),
					h('td', { className: 'st-status', text: label('status', st.status) }),
					h('td', { className: 'st-meaning', text: (st.consequence && st.consequence.headline) || '' }),
					signals,
					h('td', { text: st.shown_since ? fmtMoment(st.shown_since) : (st.valid_from ? fmtMoment(st.valid_from) : tx.none) }),
					h('td', {}, btn)));
				body.appendChild(detail);
			});
		});
		return h('table', { className: 'st-table st-overview' },
			h('caption', { text: tx.tableCaption(y.year) }),
			h('thead', {}, h('tr', {},
				h('th', { scope: 'col', text: tx.cInsurer }), h('th', { scope: 'col', text: tx.cPolicy }),
				h('th', { scope: 'col', text: tx.cCare }), h('th', { scope: 'col', text: tx.cStatus }),
				h('th', { scope: 'col', text: tx.cMeaning }), h('th', { scope: 'col', text: tx.cSignals }),
				h('th', { scope: 'col', text: tx.cSince }), h('th', { scope: 'col', text: tx.cDetails }))),
			body);
	}

	function renderProvider(d) {
		var tx = t(), body = $('st-provider-body'), p = d.provider || {};
		clear(body);
		$('st-provider').hidden = false;
		$('st-provider').setAttribute('data-view', d.view || 'now');
		$('st-provider-h').textContent = p.name || p.agb;
		var loc = (p.locations || [])[0];
		$('st-provider-meta').textContent = [tx.agb + ' ' + p.agb, label('provider_kind', p.kind),
			loc ? [loc.street, loc.postcode, loc.city].filter(Boolean).join(' ') : ''].filter(Boolean).join(' · ');
		if (d.at)
			body.appendChild(h('p', { className: 'st-at-note', text: tx.viewAt(fmtMoment(d.at)) + ' ' + tx.atNote }));
		(d.years || []).forEach(function (y, i) {
			body.appendChild(h('h3', { text: tx.year(y.year) }));
			body.appendChild(h('div', { className: 'st-scroll' }, yearTable(y, i)));
		});
	}

	function loadProvider(focus) {
		var seq = ++state.seq, err = $('st-error');
		err.textContent = '';
		staffGet('/v1/staff/providers/' + encodeURIComponent(state.agb), { lang: state.lang, at: state.at }).then(function (d) {
			if (seq !== state.seq)
				return;
			state.provider = d;
			renderProvider(d);
			if (focus)
				$('st-provider-h').focus();
		}, function (e) {
			if (seq !== state.seq || !state.token)
				return;
			clear($('st-provider-body'));
			$('st-provider').hidden = true;
			err.textContent = errorText(e);
		});
	}

	/* ---- feed health --------------------------------------------------------------------------- */

	function loadFeeds() {
		var box = $('st-feeds-body');
		staffGet('/v1/staff/feeds', { lang: state.lang }).then(function (d) {
			var tx = t(), body = h('tbody');
			clear(box);
			(d.feeds || []).forEach(function (f) {
				var states = h('td', { className: 'st-signals' });
				if (f.failing)
					states.appendChild(badge('st-b-conflict', tx.fFailing));
				if (f.stale)
					states.appendChild(badge('st-b-stale', tx.fStale));
				if (!f.failing && !f.stale)
					states.appendChild(badge('st-b-ok', tx.fOk));
				var errs = f.errors || [], rows = h('td');
				if (errs.length) {
					var ul = h('ul', { className: 'st-row-errors' });
					errs.forEach(function (e) { ul.appendChild(h('li', { text: tx.rowError(e) })); });
					rows.appendChild(h('details', {}, h('summary', { text: tx.rowErrors(errs.length) }), ul));
				} else {
					rows.textContent = '0';
				}
				body.appendChild(h('tr', { className: f.failing || f.stale ? 'st-feed st-conflict' : 'st-feed', 'data-feed': f.name },
					h('th', { scope: 'row', text: f.name }),
					h('td', { text: tx.kinds[f.kind] || f.kind }),
					h('td', { text: f.last_success ? fmtMoment(f.last_success) : tx.never }),
					states,
					h('td', { text: f.last_error ? fmtMoment(f.last_error.at) + ': ' + f.last_error.message : tx.none }),
					rows));
			});
			box.appendChild(h('div', { className: 'st-scroll' }, h('table', { className: 'st-table st-feeds' },
				h('caption', { text: tx.fCaption }),
				h('thead', {}, h('tr', {},
					h('th', { scope: 'col', text: tx.fName }), h('th', { scope: 'col', text: tx.fKind }),
					h('th', { scope: 'col', text: tx.fSuccess }), h('th', { scope: 'col', text: tx.fState }),
					h('th', { scope: 'col', text: tx.fError }), h('th', { scope: 'col', text: tx.fRows }))),
				body)));
		}, function (e) {
			if (state.token)
				box.textContent = errorText(e);
		});
	}

	function loadAudit() {
		var box = $('st-audit-body');
		staffGet('/v1/staff/audit', { limit: 50, lang: state.lang }).then(function (d) {
			var tx = t(), body = h('tbody');
			clear(box);
			if (!d.entries || !d.entries.length) {
				box.appendChild(h('p', { className: 'st-hint', text: tx.aNone }));
				return;
			}
			d.entries.forEach(function (a) {
				body.appendChild(h('tr', {},
					h('td', { text: fmtMoment(a.at) }), h('td', { text: a.who + ' (' + a.role + ')' }),
					h('td', { text: tx.actions[a.action] || a.action }), h('td', { text: a.agb || tx.none }),
					h('td', { text: a.asked_at || tx.now })));
			});
			box.appendChild(h('div', { className: 'st-scroll' }, h('table', { className: 'st-table st-audit' },
				h('caption', { text: tx.aCaption }),
				h('thead', {}, h('tr', {},
					h('th', { scope: 'col', text: tx.aWhen }), h('th', { scope: 'col', text: tx.aWho }),
					h('th', { scope: 'col', text: tx.aWhat }), h('th', { scope: 'col', text: tx.aAgb }),
					h('th', { scope: 'col', text: tx.aAt }))),
				body)));
		}, function (e) {
			if (state.token)
				box.textContent = errorText(e);
		});
	}

	/* ---- start ----------------------------------------------------------------------------------- */

	function start() {
		var s = storage(), saved = s && s.getItem(LANG_KEY);
		var qlang = /[?&]lang=(nl|en)\b/.exec(window.location.search);
		state.lang = qlang ? qlang[1] : saved === 'en' ? 'en' : 'nl';
		applyLang();

		$('st-lang').addEventListener('click', function () {
			state.lang = state.lang === 'nl' ? 'en' : 'nl';
			var st = storage();
			if (st)
				st.setItem(LANG_KEY, state.lang);
			applyLang();
			if (state.token)
				loadLabels().then(function () {
					if (state.agb)
						loadProvider(false);
					loadFeeds();
					if (state.me && state.me.role === 'admin')
						loadAudit();
				});
		});
		$('st-signin-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var tok = $('st-token').value.trim();
			if (!tok) {
				$('st-signin-msg').textContent = t().emptyToken;
				$('st-token').setAttribute('aria-invalid', 'true');
				return;
			}
			$('st-token').removeAttribute('aria-invalid');
			signIn(tok);
		});
		$('st-signout').addEventListener('click', function () { signOut(t().signedOut); });
		var q = $('st-q');
		q.addEventListener('input', function () {
			if (state.timer)
				clearTimeout(state.timer);
			state.timer = setTimeout(function () { state.timer = null; search(q.value); }, 150);
		});
		q.addEventListener('keydown', comboKey);
		$('st-time-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var v = $('st-at').value;
			if (!v) {
				$('st-view').textContent = t().badMoment;
				return;
			}
			setMoment(v);
		});
		$('st-time-now').addEventListener('click', function () {
			$('st-at').value = '';
			setMoment(null);
		});
		$('st-feeds-refresh').addEventListener('click', loadFeeds);
		$('st-audit-refresh').addEventListener('click', loadAudit);

		/* a token of this tab (sessionStorage only): checked before anything is shown */
		var tok = s && s.getItem(KEY);
		if (tok) {
			get('/v1/staff/me', { lang: state.lang }, true, tok).then(function (me) {
				state.token = tok;
				state.me = me;
				showSignedIn();
			}, function (e) {
				if (e instanceof ApiError && e.status === 401)
					signOut(t().revoked);
				else
					$('st-signin-msg').textContent = errorText(e);
			});
		}
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
