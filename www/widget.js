/*
 * zorgstatus widget: does this care provider have a contract for my policy, and what does
 * that mean for what I pay?  Plain JavaScript, no build step, no external resources.
 *
 * Embed (see www/README.md):
 *   <div data-zorgstatus data-api="https://HOST" data-lang="nl"></div>
 *   <script src="https://HOST/www/widget.js" defer></script>
 *
 * Optional attributes on the div: data-lang (nl|en), data-q, data-agb, data-policy,
 * data-year, data-amount (the starting state), data-url-state (keep the state in the page URL:
 * q, agb, policy, year, amount, lang; www/index.html uses it), data-heading-level (1-5,
 * default 2). The only global is window.ZorgStatus ({version, mount, mountAll}).
 *
 * Each widget renders into an open shadow root of its element, with widget.css (from the
 * place widget.js came from) linked inside it: the host page's CSS does not reach it. Its ids
 * (and so every aria-* reference and live region) live in that shadow root: look elements up
 * with this.byId() and the focus with this.focused(), never through document.
 *
 * Every text about statuses and consequences comes from the API (consequence.text, headline,
 * warnings, exceptions, error.message), and every display name of a code (care type, status,
 * policy type, provider kind, ...) from GET /v1/labels. The table T below holds only the
 * widget's own words.
 */
(function () {
	'use strict';

	var VERSION = '1.0';
	if (window.ZorgStatus && window.ZorgStatus.version) {
		window.ZorgStatus.mountAll();
		return;
	}

	var scriptEl = document.currentScript;
	var scriptSrc = scriptEl && scriptEl.src ? scriptEl.src : '';

	/* ---- the widget's own labels, Dutch first, English second ------------------------------ */
	var T = {
		nl: {
			title: 'Heeft uw zorgaanbieder een contract?',
			intro: 'Zoek uw zorgaanbieder en kies uw zorgverzekering (polis). U ziet dan of er een ' +
				'contract is en wat dat betekent voor wat u betaalt.',
			switchLang: 'English', switchLangCode: 'en',
			searchLabel: 'Zoek een zorgaanbieder',
			searchHint: 'Typ een naam, plaats, postcode of AGB-code.',
			searchButton: 'Zoeken',
			searching: 'Zoeken…',
			noResults: 'Geen zorgaanbieders gevonden. Probeer een andere naam of een plaats.',
			results: function (n, total) {
				return total > n ? n + ' van ' + total + ' zorgaanbieders getoond.' :
					(n === 1 ? '1 zorgaanbieder gevonden.' : n + ' zorgaanbieders gevonden.');
			},
			resultsLabel: 'Gevonden zorgaanbieders',
			didYouMean: function (q) { return 'Bedoelde u “' + q + '”?'; },
			loading: 'Gegevens worden geladen…',
			agb: 'AGB-code',
			partOf: 'Onderdeel van',
			locations: 'Adressen',
			yearLabel: 'Jaar',
			yearHint: 'Vanaf 12 november ziet u ook het volgende jaar.',
			policyLabel: 'Uw zorgverzekering (polis)',
			policyChoose: 'Kies uw polis',
			policyHint: 'De polissen staan per zorgverzekeraar, op alfabet.',
			policyPick: 'Kies hierboven uw polis. Dan ziet u wat dit voor u betekent.',
			policyNotInYear: function (y) { return 'Deze polis bestaat niet in ' + y + '. Kies een andere polis of een ander jaar.'; },
			amountLabel: 'Kosten van de behandeling (niet verplicht)',
			amountHint: 'Bedrag in euro, bijvoorbeeld 8000: u ziet dan een rekenvoorbeeld.',
			amountButton: 'Bereken',
			amountInvalid: 'Vul een bedrag in euro in, bijvoorbeeld 8000 of 8000,50.',
			forPolicy: function (p, y) { return p + ' in ' + y; },
			noStatuses: 'Voor deze zorgaanbieder en deze polis zijn in dit jaar geen gegevens.',
			example: 'Rekenvoorbeeld',
			exampleAmount: 'Kosten van de behandeling',
			exampleInsurer: 'Uw zorgverzekeraar betaalt',
			examplePatient: 'U betaalt zelf',
			exampleNote: 'Het eigen risico is hier niet meegeteld.',
			warnings: 'Let op',
			exceptions: 'Uitzonderingen',
			sources: 'Bronnen',
			said: 'gemeld op',
			checked: 'laatst gecontroleerd op',
			sourceStale: 'niet meer actueel',
			says: 'zegt',
			backToSearch: 'Andere zorgaanbieder zoeken',
			errorTitle: 'Dat lukte niet.',
			notFound: 'Deze zorgaanbieder is niet gevonden.',
			notPublished: 'Dit jaar is nog niet gepubliceerd.',
			badRequest: 'De vraag klopt niet.',
			network: 'Er is geen verbinding met de server. Controleer uw internetverbinding en probeer het later opnieuw.',
			serverError: 'Er ging iets mis bij de server. Probeer het later opnieuw.',
			retry: 'Opnieuw proberen',
			footer: 'Gegevens van zorgverzekeraars en zorgaanbieders. Twijfelt u? Vraag het na bij uw zorgverzekeraar.',
			datetime: function (d, m, y, t) { return d + ' ' + m + ' ' + y + ' om ' + t; },
			months: ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus',
				'september', 'oktober', 'november', 'december'],
			since: 'Deze status geldt sinds',
			overviewTitle: function (y) { return 'Alle polissen in ' + y; },
			overviewHint: function (care) { return 'Per polis: ' + care + '. Kies een polis voor alle zorg en wat u betaalt.'; },
			colPolicy: 'Polis', colInsurer: 'Zorgverzekeraar', colNotes: 'Let op',
			sortLabel: 'Sorteer op', sortName: 'Naam', sortStatus: 'Status',
			marker: {
				ceiling: 'Omzetplafond', patient_stop: 'Geen nieuwe patiënten',
				patient_stop_announced: 'Binnenkort geen nieuwe patiënten',
				conflict: 'Zorgverzekeraar en zorgaanbieder zeggen iets anders'
			},
			backToOverview: 'Alle polissen van deze zorgaanbieder',
			nextYear: 'volgend jaar',
			seasonHint: function (y, cur) { return 'U ziet eerst ' + y + ': het jaar waarvoor u nu een polis kiest. Kies ' + cur + ' voor dit jaar.'; },
			deductible: 'Eigen risico',
			deductibleFor: function (cares) { return 'Voor ' + cares + ':'; },
			liveOverview: function (n, y) { return n + ' polissen in ' + y + '.'; },
			flag: {
				provider_only: 'Alleen gemeld door de zorgaanbieder',
				stale: 'Misschien niet meer actueel'
			},
			stopNote: 'Toelichting van de zorgaanbieder of zorgverzekeraar',
			exempt: 'geldt niet voor',
			and: 'en'
		},
		en: {
			title: 'Does your care provider have a contract?',
			intro: 'Search for your care provider and choose your health insurance policy. You will ' +
				'see whether there is a contract and what that means for what you pay.',
			switchLang: 'Nederlands', switchLangCode: 'nl',
			searchLabel: 'Search for a care provider',
			searchHint: 'Type a name, town, postcode or AGB code.',
			searchButton: 'Search',
			searching: 'Searching…',
			noResults: 'No care providers found. Try another name or a town.',
			results: function (n, total) {
				return total > n ? 'Showing ' + n + ' of ' + total + ' care providers.' :
					(n === 1 ? '1 care provider found.' : n + ' care providers found.');
			},
			resultsLabel: 'Care providers found',
			didYouMean: function (q) { return 'Did you mean “' + q + '”?'; },
			loading: 'Loading…',
			agb: 'AGB code',
			partOf: 'Part of',
			locations: 'Addresses',
			yearLabel: 'Year',
			yearHint: 'From 12 November you also see next year.',
			policyLabel: 'Your health insurance policy',
			policyChoose: 'Choose your policy',
			policyHint: 'Policies are listed per insurer, in alphabetical order.',
			policyPick: 'Choose your policy above to see what this means for you.',
			policyNotInYear: function (y) { return 'This policy does not exist in ' + y + '. Choose another policy or year.'; },
			amountLabel: 'Cost of the treatment (optional)',
			amountHint: 'Amount in euros, for example 8000, for a worked example.',
			amountButton: 'Calculate',
			amountInvalid: 'Enter an amount in euros, for example 8000 or 8000.50.',
			forPolicy: function (p, y) { return p + ' in ' + y; },
			noStatuses: 'There is no information for this care provider and this policy in this year.',
			example: 'Worked example',
			exampleAmount: 'Cost of the treatment',
			exampleInsurer: 'Your insurer pays',
			examplePatient: 'You pay yourself',
			exampleNote: 'Not counting the deductible (eigen risico).',
			warnings: 'Please note',
			exceptions: 'Exceptions',
			sources: 'Sources',
			said: 'reported on',
			checked: 'last checked on',
			sourceStale: 'out of date',
			says: 'says',
			backToSearch: 'Search for another care provider',
			errorTitle: 'That did not work.',
			notFound: 'This care provider was not found.',
			notPublished: 'This year has not been published yet.',
			badRequest: 'The question is not valid.',
			network: 'There is no connection to the server. Check your internet connection and try again later.',
			serverError: 'Something went wrong on the server. Please try again later.',
			retry: 'Try again',
			footer: 'Information from insurers and care providers. In doubt? Check with your insurer.',
			datetime: function (d, m, y, t) { return d + ' ' + m + ' ' + y + ' at ' + t; },
			months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
				'September', 'October', 'November', 'December'],
			since: 'This status applies since',
			overviewTitle: function (y) { return 'All policies in ' + y; },
			overviewHint: function (care) { return 'Per policy: ' + care + '. Choose a policy for all care and what you pay.'; },
			colPolicy: 'Policy', colInsurer: 'Insurer', colNotes: 'Please note',
			sortLabel: 'Sort by', sortName: 'Name', sortStatus: 'Status',
			marker: {
				ceiling: 'Revenue ceiling', patient_stop: 'No new patients',
				patient_stop_announced: 'Soon no new patients',
				conflict: 'Insurer and care provider say different things'
			},
			backToOverview: 'All policies of this care provider',
			nextYear: 'next year',
			seasonHint: function (y, cur) { return 'You first see ' + y + ': the year you choose a policy for now. Choose ' + cur + ' for this year.'; },
			deductible: 'Deductible (eigen risico)',
			deductibleFor: function (cares) { return 'For ' + cares + ':'; },
			liveOverview: function (n, y) { return n + ' policies in ' + y + '.'; },
			flag: {
				provider_only: 'Reported by the care provider only',
				stale: 'May be out of date'
			},
			stopNote: 'Note from the care provider or insurer',
			exempt: 'does not apply to',
			and: 'and'
		}
	};

	/* ---- small helpers ------------------------------------------------------------------- */
	var instances = 0;

	function h(tag, attrs) {
		var el = document.createElement(tag);
		if (attrs) {
			for (var k in attrs) {
				if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null || attrs[k] === false)
					continue;
				if (k === 'text')
					el.textContent = attrs[k];
				else if (k === 'className')
					el.className = attrs[k];
				else if (k.slice(0, 2) === 'on' && typeof attrs[k] === 'function')
					el.addEventListener(k.slice(2), attrs[k]);
				else
					el.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
			}
		}
		for (var i = 2; i < arguments.length; i++)
			append(el, arguments[i]);
		return el;
	}

	function append(el, c) {
		if (c == null || c === false)
			return;
		if (Array.isArray(c)) {
			for (var i = 0; i < c.length; i++)
				append(el, c[i]);
		} else if (typeof c === 'string' || typeof c === 'number') {
			el.appendChild(document.createTextNode(String(c)));
		} else {
			el.appendChild(c);
		}
	}

	function clear(el) {
		while (el.firstChild)
			el.removeChild(el.firstChild);
	}

	function lookup(table, code) {
		return table && Object.prototype.hasOwnProperty.call(table, code) ? table[code] : String(code);
	}

	/* "3435CM" -> "3435 CM" */
	function postcode(pc) {
		var m = /^(\d{4})\s*([A-Za-z]{2})$/.exec(String(pc || ''));
		return m ? m[1] + ' ' + m[2].toUpperCase() : String(pc || '');
	}

	/* an amount never breaks between "€" and the number */
	function nobreakMoney(text) {
		return String(text || '').replace(/€ (?=\d)/g, '€\u00a0');
	}

	/* the care type a provider is known for, from its kind (GET /v1/labels provider_kind) */
	var KIND_CARE = {
		hospital: 'hospital', ibc: 'ibc', mental_health: 'mental_health',
		district_nursing: 'district_nursing', physiotherapy: 'physiotherapy', gp: 'gp',
		pharmacy: 'pharmacy', maternity: 'maternity', medical_devices: 'medical_devices'
	};

	/* display order of a presentation when sorting by status (not a preference: the user asks) */
	var PRES_ORDER = {
		contracted: 0, contracted_patient_stop: 1, negotiating: 2, conflict: 3, unknown: 4,
		ended: 5, not_contracted: 6
	};

	/* GET /v1/labels, once per API and language, shared by every instance */
	var labelCache = {};

	/* user input -> "8000" / "8000.50" for the API; '' when empty; null when not an amount */
	function parseAmount(str, lang) {
		var s = String(str == null ? '' : str).replace(/[€\s\u00a0]/g, '').replace(/^eur/i, '');
		if (s === '')
			return '';
		var m;
		if (/^\d+$/.test(s))
			return s.replace(/^0+(?=\d)/, '');
		if ((m = /^(\d{1,3}(?:\.\d{3})+)(?:,(\d{1,2}))?$/.exec(s)) && lang !== 'en')
			return norm(m[1].replace(/\./g, ''), m[2]);
		if ((m = /^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/.exec(s)) && lang === 'en')
			return norm(m[1].replace(/,/g, ''), m[2]);
		if ((m = /^(\d+)[.,](\d{1,2})$/.exec(s)))
			return norm(m[1], m[2]);
		if ((m = /^(\d+)[.,]-{1,2}$/.exec(s)))
			return norm(m[1], '');
		return null;

		function norm(units, cents) {
			units = units.replace(/^0+(?=\d)/, '');
			if (!cents || /^0+$/.test(cents))
				return units;
			return units + '.' + (cents + '0').slice(0, 2);
		}
	}

	var amsterdamParts = null;
	try {
		amsterdamParts = new Intl.DateTimeFormat('en-GB', {
			timeZone: 'Europe/Amsterdam', year: 'numeric', month: 'numeric', day: 'numeric',
			hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
		});
	} catch (e) {
		amsterdamParts = null;
	}

	/* RFC 3339 -> "12 november 2026 om 07:00" (Europe/Amsterdam) */
	function dateTime(iso, t) {
		var d = new Date(iso);
		if (!iso || isNaN(d.getTime()))
			return iso ? String(iso) : '';
		var y, mo, day, hh, mm;
		if (amsterdamParts && amsterdamParts.formatToParts) {
			var parts = amsterdamParts.formatToParts(d), p = {};
			for (var i = 0; i < parts.length; i++)
				p[parts[i].type] = parts[i].value;
			y = p.year; mo = +p.month; day = +p.day; hh = p.hour; mm = p.minute;
		} else {
			y = d.getFullYear(); mo = d.getMonth() + 1; day = d.getDate();
			hh = ('0' + d.getHours()).slice(-2); mm = ('0' + d.getMinutes()).slice(-2);
		}
		return t.datetime(day, t.months[mo - 1], y, hh + ':' + mm);
	}

	/* "2027-01-31" -> "31 januari 2027" */
	function date(s, t) {
		var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(s || ''));
		return m ? (+m[3]) + ' ' + t.months[+m[2] - 1] + ' ' + m[1] : String(s || '');
	}

	function ApiError(kind, status, code, message) {
		this.kind = kind;        /* 'api' | 'network' | 'server' */
		this.status = status;
		this.code = code;
		this.message = message;
	}

	function getJSON(url, signal) {
		var opts = { method: 'GET', credentials: 'omit', headers: { Accept: 'application/json' } };
		if (signal)
			opts.signal = signal;
		return fetch(url, opts).then(function (res) {
			return res.text().then(function (body) {
				var data = null;
				try {
					data = body ? JSON.parse(body) : null;
				} catch (e) {
					data = null;
				}
				if (res.ok && data)
					return data;
				if (data && data.error && typeof data.error.message === 'string')
					throw new ApiError('api', res.status, data.error.code || '',
						typeof data.error.text === 'string' ? data.error.text : data.error.message);
				throw new ApiError('server', res.status, '', '');
			});
		}, function (err) {
			if (err && err.name === 'AbortError')
				throw err;
			throw new ApiError('network', 0, '', '');
		});
	}

	/* ---- one widget instance -------------------------------------------------------------- */
	function Widget(host, opts) {
		this.host = host;
		this.n = ++instances;
		this.api = (opts.api || '').replace(/\/+$/, '');
		this.urlState = !!opts.urlState;
		this.headingLevel = Math.min(5, Math.max(1, parseInt(opts.headingLevel, 10) || 2));
		this.state = {
			lang: opts.lang === 'en' ? 'en' : 'nl',
			q: opts.q || '', agb: opts.agb || '', policy: opts.policy || '',
			year: opts.year || '', amount: opts.amount || ''
		};
		if (this.urlState)
			this.readUrl();
		this.data = null;          /* provider answer (all years) */
		this.extraYear = null;     /* {year, data|error} for a year outside the default answer */
		this.searchSeq = 0;
		this.providerSeq = 0;
		this.searchTimer = null;
		this.searchAbort = null;
		this.build();
		this.start();
	}

	Widget.prototype.t = function () {
		return T[this.state.lang];
	};

	/* display name of a code from GET /v1/labels (the code itself until they have arrived) */
	Widget.prototype.L = function (family, code) {
		var l = this.labels;
		return l && l[family] && Object.prototype.hasOwnProperty.call(l[family], code) ? l[family][code] : String(code);
	};

	Widget.prototype.loadLabels = function () {
		var self = this, key = this.api + '|' + this.state.lang;
		if (!labelCache[key])
			labelCache[key] = getJSON(this.url('/v1/labels', {})).then(null, function (err) {
				delete labelCache[key];
				throw err;
			});
		return labelCache[key].then(function (l) {
			if (l && l.lang === self.state.lang)
				self.labels = l;
			return l;
		}, function () { return null; });
	};

	/* a short spoken summary (at most 200 characters) in the live region */
	Widget.prototype.announce = function (text) {
		text = String(text || '');
		if (text.length > 200)
			text = text.slice(0, 199) + '…';
		this.liveEl.textContent = text;
	};

	Widget.prototype.id = function (name) {
		return 'zs' + this.n + '-' + name;
	};

	/* an element of this widget by id: ids live in the widget's shadow root, not the page */
	Widget.prototype.byId = function (id) {
		return this.tree.getElementById(id); /* a ShadowRoot or the document: both have it */
	};

	/* the focused element inside the widget (the page's activeElement is the host element) */
	Widget.prototype.focused = function () {
		var ae = this.shadow ? this.shadow.activeElement : document.activeElement;
		return ae && this.root.contains(ae) ? ae : null;
	};

	Widget.prototype.heading = function (offset, attrs, text) {
		var lvl = Math.min(6, this.headingLevel + offset);
		return h('h' + lvl, attrs, text);
	};

	Widget.prototype.readUrl = function () {
		var p = new URLSearchParams(window.location.search);
		var s = this.state;
		if (p.has('lang'))
			s.lang = p.get('lang') === 'en' ? 'en' : 'nl';
		s.q = p.get('q') || '';
		s.agb = p.get('agb') || '';
		s.policy = p.get('policy') || '';
		s.year = p.get('year') || '';
		s.amount = p.get('amount') || '';
	};

	Widget.prototype.writeUrl = function (push) {
		if (!this.urlState || !window.history || !history.replaceState)
			return;
		var s = this.state, p = new URLSearchParams();
		if (s.q) p.set('q', s.q);
		if (s.agb) p.set('agb', s.agb);
		if (s.policy) p.set('policy', s.policy);
		if (s.year) p.set('year', s.year);
		if (s.amount) p.set('amount', s.amount);
		if (s.lang !== 'nl') p.set('lang', s.lang);
		var qs = p.toString();
		var url = window.location.pathname + (qs ? '?' + qs.replace(/\+/g, '%20') : '') + window.location.hash;
		if (url === window.location.pathname + window.location.search + window.location.hash)
			return;
		if (push)
			history.pushState(null, '', url);
		else
			history.replaceState(null, '', url);
	};

	Widget.prototype.url = function (path, params) {
		var p = new URLSearchParams();
		for (var k in params)
			if (Object.prototype.hasOwnProperty.call(params, k) && params[k] !== '' && params[k] != null)
				p.set(k, params[k]);
		p.set('lang', this.state.lang);
		return this.api + path + '?' + p.toString();
	};

	/* ---- the fixed frame --------------------------------------------------------------------- */
	Widget.prototype.build = function () {
		var self = this, t = this.t();
		clear(this.host);
		/* the widget lives in an open shadow root of the host element: host CSS cannot reach
		 * it (only inherited properties cross, and .zs-root resets them); its stylesheet is
		 * linked inside it. A browser without Shadow DOM gets the page-level stylesheet. */
		this.shadow = attachShadow(this.host);
		this.tree = this.shadow || document;
		this.root = h('div', { className: 'zs-root', lang: this.state.lang, 'data-zs-version': VERSION });
		if (this.shadow) {
			/* unstyled until widget.css has arrived (no flash of bare HTML); shown anyway
			 * when it fails or takes more than 3 s */
			var root = this.root, link = h('link', { rel: 'stylesheet', href: cssHref(this.api) });
			var show = function () { root.hidden = false; };
			root.hidden = true;
			link.addEventListener('load', show);
			link.addEventListener('error', show);
			setTimeout(show, 3000);
			this.shadow.appendChild(link);
		} else {
			ensureCss(this.api);
		}

		this.titleEl = this.heading(0, { className: 'zs-title', id: this.id('title') });
		this.langBtn = h('button', {
			type: 'button', className: 'zs-lang',
			onclick: function () { self.setLang(self.t().switchLangCode); }
		});
		this.introEl = h('p', { className: 'zs-intro' });
		this.root.appendChild(h('div', { className: 'zs-header' },
			h('div', { className: 'zs-header-text' }, this.titleEl, this.introEl), this.langBtn));

		/* search */
		this.searchLabel = h('label', { className: 'zs-label', 'for': this.id('q') });
		this.searchHint = h('p', { className: 'zs-hint', id: this.id('q-hint') });
		/* the WAI-ARIA combobox pattern (list autocomplete): focus stays in the input, the
		 * arrow keys move the active option (aria-activedescendant), Enter picks it */
		this.searchInput = h('input', {
			className: 'zs-input', id: this.id('q'), type: 'text', name: 'q', autocomplete: 'off',
			spellcheck: 'false', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
			'aria-describedby': this.id('q-hint'), 'aria-controls': this.id('results')
		});
		this.active = -1;
		this.searchBtn = h('button', { type: 'submit', className: 'zs-button' });
		this.searchForm = h('form', { className: 'zs-search', role: 'search', 'aria-labelledby': this.id('q-label') },
			this.searchLabel, this.searchHint,
			h('div', { className: 'zs-row' }, this.searchInput, this.searchBtn));
		this.searchLabel.id = this.id('q-label');
		this.searchForm.addEventListener('submit', function (ev) {
			ev.preventDefault();
			self.searchNow(self.searchInput.value);
		});
		this.searchInput.addEventListener('input', function () {
			self.scheduleSearch(self.searchInput.value);
		});
		this.searchInput.addEventListener('keydown', function (ev) { self.comboKey(ev); });
		this.searchStatus = h('p', { className: 'zs-search-status', role: 'status', 'aria-live': 'polite', id: this.id('search-status') });
		this.resultsList = h('ul', { className: 'zs-results', id: this.id('results'), role: 'listbox' });
		/* "Bedoelde u ...?" when the answer is a typo correction or left words out */
		this.didYouMeanEl = h('div', { className: 'zs-did-you-mean', id: this.id('did-you-mean') });
		this.root.appendChild(h('div', { className: 'zs-search-box' },
			this.searchForm, this.searchStatus, this.didYouMeanEl, this.resultsList));

		/* the short spoken summary of what changed (never the whole panel) */
		this.liveEl = h('p', { className: 'zs-visually-hidden', role: 'status', 'aria-live': 'polite', id: this.id('live') });
		this.root.appendChild(this.liveEl);

		/* errors (role=alert is announced at once) */
		this.errorEl = h('div', { className: 'zs-error', role: 'alert', id: this.id('error') });
		this.root.appendChild(this.errorEl);

		/* provider */
		this.providerEl = h('section', { className: 'zs-provider', hidden: true, 'aria-labelledby': this.id('provider-name') });
		this.root.appendChild(this.providerEl);

		this.footerEl = h('p', { className: 'zs-footer' });
		this.root.appendChild(this.footerEl);

		(this.shadow || this.host).appendChild(this.root);
		this.paintFrame();
	};

	Widget.prototype.paintFrame = function () {
		var t = this.t();
		this.root.setAttribute('lang', this.state.lang);
		this.root.classList.toggle('zs-has-provider', !!this.data);
		this.titleEl.textContent = t.title;
		this.introEl.textContent = t.intro;
		this.langBtn.textContent = t.switchLang;
		this.langBtn.setAttribute('lang', t.switchLangCode);
		this.searchLabel.textContent = t.searchLabel;
		this.searchHint.textContent = t.searchHint;
		this.searchBtn.textContent = t.searchButton;
		this.resultsList.setAttribute('aria-label', t.resultsLabel);
		this.footerEl.textContent = t.footer;
		if (this.urlState) {
			document.documentElement.setAttribute('lang', this.state.lang);
			document.title = (this.data ? this.data.provider.name + ' – ' : '') + t.title;
		}
	};

	Widget.prototype.start = function () {
		this.searchInput.value = this.state.q;
		if (this.state.agb)
			this.loadProvider(false);
		else if (this.state.q)
			this.searchNow(this.state.q);
	};

	Widget.prototype.setLang = function (lang) {
		if (lang === this.state.lang)
			return;
		this.state.lang = lang;
		this.writeUrl(false);
		this.paintFrame();
		this.showError(null);
		if (this.resultsList.firstChild && this.state.q)
			this.searchNow(this.state.q);
		if (this.state.agb)
			this.loadProvider(false);
		this.langBtn.focus();
	};

	/* ---- errors ------------------------------------------------------------------------- */
	Widget.prototype.errorTitle = function (err) {
		var t = this.t();
		if (!err || err.kind === 'network')
			return t.network;
		if (err.kind === 'server')
			return t.serverError;
		if (err.code === 'not_found')
			return t.notFound;
		if (err.code === 'not_yet_published')
			return t.notPublished;
		if (err.status === 400)
			return t.badRequest;
		return t.errorTitle;
	};

	Widget.prototype.errorBlock = function (err, retry) {
		var self = this, t = this.t();
		var box = h('div', { className: 'zs-error-box', 'data-error': err.kind === 'api' ? err.code : err.kind },
			h('p', { className: 'zs-error-title' }, this.errorTitle(err)));
		if (err.kind === 'api' && err.message)
			box.appendChild(h('p', { className: 'zs-error-message' }, err.message));
		if (retry && err.kind !== 'api')
			box.appendChild(h('button', { type: 'button', className: 'zs-button zs-button-secondary', onclick: function () {
				self.showError(null);
				retry();
			} }, t.retry));
		return box;
	};

	Widget.prototype.showError = function (err, retry) {
		clear(this.errorEl);
		if (err)
			this.errorEl.appendChild(this.errorBlock(err, retry));
	};

	/* ---- search --------------------------------------------------------------------------- */
	Widget.prototype.scheduleSearch = function (q) {
		var self = this;
		if (this.searchTimer)
			clearTimeout(this.searchTimer);
		this.searchTimer = setTimeout(function () {
			self.searchTimer = null;
			self.searchNow(q);
		}, 150);
	};

	Widget.prototype.searchNow = function (q) {
		var self = this, t = this.t();
		q = String(q || '').replace(/\s+/g, ' ').replace(/^ | $/g, '');
		if (this.searchTimer) {
			clearTimeout(this.searchTimer);
			this.searchTimer = null;
		}
		if (this.searchAbort)
			this.searchAbort.abort();
		this.searchAbort = null;
		var seq = ++this.searchSeq;
		this.state.q = q;
		this.writeUrl(false);
		if (q.length < 2) {
			clear(this.resultsList);
			clear(this.didYouMeanEl);
			this.searchStatus.textContent = '';
			this.setActive(-1);
			return;
		}
		this.searchStatus.textContent = t.searching;
		this.root.classList.add('zs-busy');
		var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
		this.searchAbort = ctrl;
		Promise.all([getJSON(this.url('/v1/search', { q: q, limit: 10 }), ctrl && ctrl.signal),
			this.loadLabels()]).then(function (both) {
			var data = both[0];
			if (seq !== self.searchSeq)
				return;
			self.resultsList.hidden = false;
			self.root.classList.remove('zs-busy');
			self.showError(null);
			self.renderResults(data);
		}, function (err) {
			if (seq !== self.searchSeq || (err && err.name === 'AbortError'))
				return;
			self.root.classList.remove('zs-busy');
			clear(self.resultsList);
			self.searchStatus.textContent = '';
			self.showError(err, function () { self.searchNow(q); });
		});
	};

	Widget.prototype.renderResults = function (data) {
		var self = this, t = this.t();
		var results = (data && data.results) || [];
		clear(this.resultsList);
		clear(this.didYouMeanEl);
		this.searchStatus.textContent = results.length ? t.results(results.length, data.total || results.length) : t.noResults;
		var dym = results.length && data.did_you_mean;
		if (dym && dym !== this.state.q)
			this.didYouMeanEl.appendChild(h('button', {
				type: 'button', className: 'zs-link',
				onclick: function () { self.searchInput.value = dym; self.searchNow(dym); }
			}, t.didYouMean(dym)));
		results.forEach(function (r, i) {
			/* the location the query matched (street and city), else the first location's city */
			var ml = r.matched_location, where = ml && ml.street ? ml.street + ', ' + ml.city : r.city;
			var meta = [self.L('provider_kind', r.kind), where].filter(Boolean).join(' · ');
			self.resultsList.appendChild(h('li', {
				role: 'option', id: self.id('opt-' + i), className: 'zs-result', 'data-agb': r.agb,
				'aria-selected': 'false', onclick: function () { self.pickProvider(r.agb); }
			},
			h('span', { className: 'zs-result-name' }, r.name),
			h('span', { className: 'zs-result-meta' }, meta),
			h('span', { className: 'zs-result-agb' }, t.agb + ' ' + r.agb)));
		});
		this.setActive(-1);
	};

	Widget.prototype.options = function () {
		return Array.prototype.slice.call(this.resultsList.querySelectorAll('[role=option]'));
	};

	Widget.prototype.setActive = function (i) {
		var opts = this.options();
		this.active = opts.length ? Math.max(-1, Math.min(i, opts.length - 1)) : -1;
		opts.forEach(function (o, k) {
			o.setAttribute('aria-selected', k === this.active ? 'true' : 'false');
			o.classList.toggle('zs-active', k === this.active);
		}, this);
		this.searchInput.setAttribute('aria-expanded', opts.length && !this.resultsList.hidden ? 'true' : 'false');
		if (this.active >= 0) {
			this.searchInput.setAttribute('aria-activedescendant', opts[this.active].id);
			if (opts[this.active].scrollIntoView)
				opts[this.active].scrollIntoView({ block: 'nearest' });
		} else {
			this.searchInput.removeAttribute('aria-activedescendant');
		}
	};

	Widget.prototype.comboKey = function (ev) {
		var opts = this.options();
		if (ev.key === 'ArrowDown' && opts.length) {
			ev.preventDefault();
			this.resultsList.hidden = false;
			this.setActive(this.active + 1);
		} else if (ev.key === 'ArrowUp' && opts.length) {
			ev.preventDefault();
			this.setActive(this.active <= 0 ? opts.length - 1 : this.active - 1);
		} else if (ev.key === 'Enter' && this.active >= 0 && opts[this.active]) {
			ev.preventDefault();
			this.pickProvider(opts[this.active].getAttribute('data-agb'));
		} else if (ev.key === 'Escape') {
			ev.preventDefault();
			if (opts.length && !this.resultsList.hidden) {
				this.resultsList.hidden = true;
				this.setActive(-1);
			} else if (this.searchInput.value) {
				this.searchInput.value = '';
				this.scheduleSearch('');
			}
		}
	};

	Widget.prototype.pickProvider = function (agb) {
		this.state.agb = agb;
		this.state.year = '';
		this.writeUrl(true);
		clear(this.resultsList);
		clear(this.didYouMeanEl);
		this.searchStatus.textContent = '';
		this.setActive(-1);
		this.loadProvider(true);
	};

	/* ---- provider --------------------------------------------------------------------------- */
	Widget.prototype.loadProvider = function (focus) {
		var self = this, t = this.t(), s = this.state;
		var seq = ++this.providerSeq;
		var amount = parseAmount(s.amount, s.lang);
		this.amountError = amount === null;
		if (amount === null)
			amount = '';
		this.providerEl.hidden = false;
		this.providerEl.setAttribute('aria-busy', 'true');
		if (!this.data || this.data.provider.agb !== s.agb) {
			clear(this.providerEl);
			this.providerEl.appendChild(h('p', { className: 'zs-loading', role: 'status' }, t.loading));
		}
		Promise.all([getJSON(this.url('/v1/providers/' + encodeURIComponent(s.agb), { amount: amount })),
			this.loadLabels()])
			.then(function (both) {
				var data = both[0];
				var y = parseInt(s.year, 10);
				var have = (data.years || []).some(function (e) { return e.year === y; });
				if (!s.year || !y || have)
					return { data: data, extra: null };
				/* a year outside the default answer: ask for it, to show its data or the API's reason */
				return getJSON(self.url('/v1/providers/' + encodeURIComponent(s.agb), { amount: amount, year: s.year }))
					.then(function (d2) {
						return { data: data, extra: { year: y, data: d2 } };
					}, function (err) {
						if (err && err.kind === 'api')
							return { data: data, extra: { year: y || s.year, error: err } };
						throw err;
					});
			})
			.then(function (r) {
				if (seq !== self.providerSeq)
					return;
				self.data = r.data;
				self.extraYear = r.extra;
				self.showError(null);
				self.renderProvider(focus);
			}, function (err) {
				if (seq !== self.providerSeq)
					return;
				self.data = null;
				self.providerEl.removeAttribute('aria-busy');
				clear(self.providerEl);
				self.providerEl.hidden = true;
				self.paintFrame();
				self.showError(err, function () { self.loadProvider(focus); });
			});
	};

	Widget.prototype.years = function () {
		var list = (this.data && this.data.years ? this.data.years.slice() : []);
		var ex = this.extraYear;
		if (ex) {
			if (ex.data && ex.data.years)
				ex.data.years.forEach(function (e) {
					if (!list.some(function (x) { return x.year === e.year; }))
						list.push(e);
				});
			else if (ex.error)
				list.push({ year: ex.year, error: ex.error });
			list.sort(function (a, b) { return a.year - b.year; });
		}
		return list;
	};

	Widget.prototype.renderProvider = function (focus) {
		var self = this, t = this.t(), s = this.state, d = this.data, p = d.provider;
		var el = this.providerEl;
		/* focus stays on the control the user used: remembered by id, given back after */
		var ae = this.focused(), activeId = ae && ae.id ? ae.id : null;
		clear(el);
		el.removeAttribute('aria-busy');
		el.setAttribute('data-agb', p.agb);
		this.paintFrame();

		var nameEl = this.heading(1, { className: 'zs-provider-name', id: this.id('provider-name'), tabindex: '-1' }, p.name);
		var meta = [this.L('provider_kind', p.kind)];
		if (p.parent)
			meta.push(t.partOf + ' ' + p.parent);
		meta.push(t.agb + ' ' + p.agb);
		var locs = h('ul', { className: 'zs-locations', 'aria-label': t.locations });
		(p.locations || []).forEach(function (l) {
			locs.appendChild(h('li', null, [l.street, [postcode(l.postcode), l.city].filter(Boolean).join(' ')].filter(Boolean).join(', ')));
		});
		var back = h('button', { type: 'button', className: 'zs-link', onclick: function () {
			self.state.agb = '';
			self.state.policy = '';
			self.state.year = '';
			self.data = null;
			self.writeUrl(true);
			clear(el);
			el.hidden = true;
			self.paintFrame();
			self.searchInput.focus();
			if (self.state.q)
				self.searchNow(self.state.q);
		} }, t.backToSearch);
		el.appendChild(h('div', { className: 'zs-provider-head' },
			h('div', null, nameEl, h('p', { className: 'zs-provider-meta' }, meta.join(' · ')), locs), back));

		/* choices: year tabs, policy, amount */
		var years = this.years();
		var yearNum = parseInt(s.year, 10);
		/* from 12 November to 31 December the answer holds next year too: open on it, the year
		 * people choose a policy for; this year is one click away */
		var dataYears = (d.years || []).map(function (e) { return e.year; });
		this.nextYear = dataYears.length > 1 ? dataYears[dataYears.length - 1] : null;
		var current = years.filter(function (e) { return e.year === yearNum; })[0] ||
			years.filter(function (e) { return e.year === self.nextYear; })[0] || years[0];
		this.currentYear = current ? current.year : null;
		var controls = h('div', { className: 'zs-controls' });
		controls.appendChild(this.renderYearTabs(years, current));
		controls.appendChild(this.renderPolicySelect(current));
		controls.appendChild(this.renderAmount());
		el.appendChild(controls);

		this.panel = h('div', {
			className: 'zs-panel', id: this.id('panel'), role: 'tabpanel',
			'aria-labelledby': current ? this.id('tab-' + current.year) : null, tabindex: '-1'
		});
		el.appendChild(this.panel);
		this.renderPanel(current);
		if (focus)
			nameEl.focus();
		else if (activeId && this.byId(activeId))
			this.byId(activeId).focus();
	};

	Widget.prototype.renderYearTabs = function (years, current) {
		var self = this, t = this.t();
		var wrap = h('div', { className: 'zs-field zs-years' },
			h('span', { className: 'zs-label', id: this.id('year-label') }, t.yearLabel));
		var list = h('div', { className: 'zs-tabs', role: 'tablist', 'aria-labelledby': this.id('year-label') });
		years.forEach(function (e) {
			var selected = current && e.year === current.year;
			var tab = h('button', {
				type: 'button', role: 'tab', className: 'zs-tab', id: self.id('tab-' + e.year),
				'aria-selected': selected ? 'true' : 'false', 'aria-controls': self.id('panel'),
				tabindex: selected ? '0' : '-1', 'data-year': e.year,
				onclick: function () { self.selectYear(e.year, false); }
			}, String(e.year), e.year === self.nextYear ? h('span', { className: 'zs-tab-note' }, ' ' + t.nextYear) : null);
			list.appendChild(tab);
		});
		list.addEventListener('keydown', function (ev) {
			var tabs = Array.prototype.slice.call(list.querySelectorAll('[role=tab]'));
			var i = tabs.indexOf(self.focused()), j = -1;
			if (ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
			else if (ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
			else if (ev.key === 'Home') j = 0;
			else if (ev.key === 'End') j = tabs.length - 1;
			if (j >= 0 && i >= 0) {
				ev.preventDefault();
				self.selectYear(+tabs[j].getAttribute('data-year'), true);
			}
		});
		wrap.appendChild(list);
		if (years.length < 2)
			wrap.appendChild(h('p', { className: 'zs-hint' }, t.yearHint));
		else if (this.nextYear && current && current.year === this.nextYear)
			wrap.appendChild(h('p', { className: 'zs-hint zs-season' }, t.seasonHint(this.nextYear, this.nextYear - 1)));
		return wrap;
	};

	Widget.prototype.selectYear = function (year, focusTab) {
		this.state.year = String(year);
		this.writeUrl(false);
		this.renderProvider(false);
		if (focusTab) {
			var tab = this.byId(this.id('tab-' + year));
			if (tab)
				tab.focus();
		}
	};

	Widget.prototype.renderPolicySelect = function (current) {
		var self = this, t = this.t(), s = this.state;
		var sel = h('select', { className: 'zs-select', id: this.id('policy'), name: 'policy',
			'aria-describedby': this.id('policy-hint') });
		sel.appendChild(h('option', { value: '' }, t.policyChoose));
		var groups = [], byInsurer = {};
		/* grouped by insurer in the order the API gives (alphabetical): no insurer first by choice */
		((current && current.policies) || []).forEach(function (e) {
			var ins = e.policy.insurer || {}, key = ins.uzovi || ins.name || '';
			if (!byInsurer[key]) {
				byInsurer[key] = h('optgroup', { label: ins.name || key });
				groups.push(byInsurer[key]);
			}
			var po = e.policy;
			var label = po.name + (po.label ? ' (' + po.label + ')' : '') + ' – ' + self.L('policy_type', po.type);
			byInsurer[key].appendChild(h('option', { value: po.id, selected: po.id === s.policy }, label));
		});
		groups.forEach(function (g) { sel.appendChild(g); });
		sel.value = s.policy;
		if (sel.value !== s.policy && s.policy) {
			/* policy from the link does not exist in this year: keep it visible as chosen */
			sel.value = '';
		}
		sel.addEventListener('change', function () {
			/* trying policies is not navigation: the history entry is replaced */
			self.state.policy = sel.value;
			self.writeUrl(false);
			self.renderPanel(self.yearEntry());
		});
		this.policySelect = sel;
		return h('div', { className: 'zs-field zs-policy' },
			h('label', { className: 'zs-label', 'for': this.id('policy') }, t.policyLabel),
			sel,
			h('p', { className: 'zs-hint', id: this.id('policy-hint') }, t.policyHint));
	};

	Widget.prototype.renderAmount = function () {
		var self = this, t = this.t(), s = this.state;
		var input = h('input', {
			className: 'zs-input zs-amount-input', id: this.id('amount'), name: 'amount', type: 'text',
			inputmode: 'decimal', autocomplete: 'off', value: s.amount,
			'aria-describedby': this.id('amount-hint') + ' ' + this.id('amount-error'),
			'aria-invalid': this.amountError ? 'true' : null
		});
		var err = h('p', { className: 'zs-field-error', id: this.id('amount-error') }, this.amountError ? t.amountInvalid : null);
		var form = h('form', { className: 'zs-field zs-amount' },
			h('label', { className: 'zs-label', 'for': this.id('amount') }, t.amountLabel),
			h('div', { className: 'zs-row' },
				h('span', { className: 'zs-prefix', 'aria-hidden': 'true' }, '€'), input,
				h('button', { type: 'submit', className: 'zs-button', id: this.id('amount-btn') }, t.amountButton)),
			err,
			h('p', { className: 'zs-hint', id: this.id('amount-hint') }, t.amountHint));
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			var v = parseAmount(input.value, self.state.lang);
			if (v === null) {
				input.setAttribute('aria-invalid', 'true');
				err.textContent = self.t().amountInvalid;
				input.focus();
				return;
			}
			self.state.amount = v;
			self.writeUrl(false);
			self.loadProvider(false);
		});
		return form;
	};

	Widget.prototype.yearEntry = function () {
		var y = this.currentYear;
		return this.years().filter(function (e) { return e.year === y; })[0] || null;
	};

	/* the care type this provider is known for (from its kind), else its first non-acute one */
	Widget.prototype.mainCare = function (entry) {
		var kind = this.data && this.data.provider ? this.data.provider.kind : null;
		var cts = [];
		((entry && entry.policies) || []).forEach(function (e) {
			(e.statuses || []).forEach(function (st) {
				if (cts.indexOf(st.care_type) < 0)
					cts.push(st.care_type);
			});
		});
		if (KIND_CARE[kind] && cts.indexOf(KIND_CARE[kind]) >= 0)
			return KIND_CARE[kind];
		return cts.filter(function (c) { return c !== 'acute'; })[0] || cts[0] || null;
	};

	/* the provider's main care types first, acute care last, the rest in the API's order */
	Widget.prototype.orderCares = function (statuses, main) {
		var rank = function (st) { return st.care_type === main ? 0 : st.care_type === 'acute' ? 2 : 1; };
		return statuses.map(function (st, i) { return { st: st, i: i }; }).sort(function (a, b) {
			return rank(a.st) - rank(b.st) || a.i - b.i;
		}).map(function (x) { return x.st; });
	};

	Widget.prototype.renderPanel = function (entry) {
		var self = this, t = this.t(), s = this.state, panel = this.panel;
		clear(panel);
		panel.removeAttribute('data-policy');
		if (!entry)
			return;
		panel.setAttribute('data-year', entry.year);
		if (entry.error) {
			panel.appendChild(this.errorBlock(entry.error, null));
			this.announce(entry.error.message || this.errorTitle(entry.error));
			return;
		}
		if (!s.policy) {
			this.renderOverview(entry);
			return;
		}
		var item = (entry.policies || []).filter(function (e) { return e.policy.id === s.policy; })[0];
		if (!item) {
			panel.appendChild(h('p', { className: 'zs-pick', 'data-missing-policy': s.policy }, t.policyNotInYear(entry.year)));
			this.announce(t.policyNotInYear(entry.year));
			return;
		}
		var po = item.policy;
		panel.setAttribute('data-policy', po.id);
		var title = t.forPolicy(po.name + (po.label ? ' (' + po.label + ')' : ''), entry.year);
		panel.appendChild(h('div', { className: 'zs-panel-head' },
			h('div', null,
				this.heading(2, { className: 'zs-panel-title', id: this.id('panel-title'), tabindex: '-1' }, title),
				h('p', { className: 'zs-panel-meta' },
					[(po.insurer && po.insurer.name), this.L('policy_type', po.type)].filter(Boolean).join(' · '))),
			h('button', { type: 'button', className: 'zs-link', id: this.id('to-overview'), onclick: function () {
				self.state.policy = '';
				self.writeUrl(false);
				if (self.policySelect)
					self.policySelect.value = '';
				self.renderPanel(self.yearEntry());
				var row = self.byId(self.id('open-' + po.id));
				(row || self.panel).focus();
			} }, t.backToOverview)));
		if (!item.statuses || !item.statuses.length) {
			panel.appendChild(h('p', { className: 'zs-pick' }, t.noStatuses));
			this.announce(title + ': ' + t.noStatuses);
			return;
		}
		var sts = this.orderCares(item.statuses, this.mainCare(entry));
		/* the deductible once per policy: each distinct sentence with the care types it is for */
		var ded = [], byText = {};
		sts.forEach(function (st) {
			var c = st.consequence || {};
			if (!c.deductible_text)
				return;
			if (!byText[c.deductible_text]) {
				byText[c.deductible_text] = [];
				ded.push(c.deductible_text);
			}
			byText[c.deductible_text].push(self.L('care_type', st.care_type));
		});
		sts.forEach(function (st) {
			panel.appendChild(self.renderStatus(st));
		});
		if (ded.length) {
			var ul = h('ul', null);
			ded.forEach(function (txt) {
				var cares = byText[txt];
				ul.appendChild(h('li', null, ded.length > 1 ? h('strong', null, t.deductibleFor(cares.join(', ')) + ' ') : null, txt));
			});
			panel.appendChild(h('div', { className: 'zs-deductible' },
				this.heading(3, { className: 'zs-subtitle' }, t.deductible), ul));
		}
		this.announce(title + ': ' + sts.map(function (st) {
			var c = st.consequence || {};
			return self.L('care_type', st.care_type) + ': ' + (c.headline || self.L('status', st.status));
		}).join('; ') + '.');
	};

	/* every policy of the year in one table: the status of the provider's main care type as
	 * colour and word, a marker for a ceiling, a patient stop or a conflict; sortable by name
	 * and status; each row opens the detail */
	Widget.prototype.renderOverview = function (entry) {
		var self = this, t = this.t(), panel = this.panel;
		var main = this.mainCare(entry), careName = main ? this.L('care_type', main) : '';
		var rows = (entry.policies || []).map(function (e, i) {
			var st = (e.statuses || []).filter(function (x) { return x.care_type === main; })[0] || null;
			return { e: e, st: st, i: i, pres: st && st.consequence ? st.consequence.presentation : 'unknown' };
		});
		var sort = this.sortBy || 'name';
		rows.sort(function (a, b) {
			var an = a.e.policy.name + ' ' + (a.e.policy.label || ''), bn = b.e.policy.name + ' ' + (b.e.policy.label || '');
			var byName = an.localeCompare(bn, self.state.lang) || a.i - b.i;
			if (sort === 'status')
				return (PRES_ORDER[a.pres] - PRES_ORDER[b.pres]) || byName;
			return byName;
		});
		panel.appendChild(this.heading(2, { className: 'zs-panel-title', id: this.id('overview-title') }, t.overviewTitle(entry.year)));
		panel.appendChild(h('p', { className: 'zs-hint', id: this.id('overview-hint') }, t.overviewHint(careName)));
		var sorter = h('div', { className: 'zs-sort', role: 'group', 'aria-labelledby': this.id('sort-label') },
			h('span', { className: 'zs-sort-label', id: this.id('sort-label') }, t.sortLabel + ':'));
		[['name', t.sortName], ['status', t.sortStatus]].forEach(function (o) {
			sorter.appendChild(h('button', {
				type: 'button', className: 'zs-sort-btn', id: self.id('sort-' + o[0]),
				'aria-pressed': sort === o[0] ? 'true' : 'false',
				onclick: function () {
					self.sortBy = o[0];
					self.renderPanel(self.yearEntry());
					var b = self.byId(self.id('sort-' + o[0]));
					if (b)
						b.focus();
				}
			}, o[1]));
		});
		panel.appendChild(sorter);
		var tbody = h('tbody', null);
		rows.forEach(function (r) {
			var po = r.e.policy, st = r.st, c = (st && st.consequence) || {}, f = (st && st.flags) || {};
			var markers = h('ul', { className: 'zs-markers' });
			var ps = f.patient_stop;
			if (f.conflict)
				markers.appendChild(h('li', { 'data-marker': 'conflict' }, t.marker.conflict));
			if (ps && ps.applies && ps.active && r.pres !== 'contracted_patient_stop') /* else the badge says it */
				markers.appendChild(h('li', { 'data-marker': 'patient_stop' }, t.marker.patient_stop));
			else if (ps && ps.applies && ps.announced)
				markers.appendChild(h('li', { 'data-marker': 'patient_stop_announced' }, t.marker.patient_stop_announced));
			if (f.ceiling)
				markers.appendChild(h('li', { 'data-marker': 'ceiling' }, t.marker.ceiling));
			tbody.appendChild(h('tr', { 'data-policy': po.id, 'data-presentation': r.pres },
				h('th', { scope: 'row' }, h('button', {
					type: 'button', className: 'zs-link zs-open', id: self.id('open-' + po.id),
					onclick: function () { self.openPolicy(po.id); }
				}, po.name + (po.label ? ' (' + po.label + ')' : ''))),
				h('td', { 'data-col': 'insurer' }, (po.insurer && po.insurer.name) || ''),
				h('td', { 'data-col': 'status' }, h('span', { className: 'zs-badge zs-badge-' + r.pres, 'data-presentation': r.pres },
					c.headline || (st ? self.L('status', st.status) : self.L('status', 'unknown')))),
				h('td', { 'data-col': 'notes' }, markers.firstChild ? markers : null)));
		});
		panel.appendChild(h('div', { className: 'zs-table-wrap' }, h('table', { className: 'zs-overview', 'aria-describedby': this.id('overview-hint') },
			h('caption', { className: 'zs-visually-hidden' }, t.overviewTitle(entry.year)),
			h('thead', null, h('tr', null,
				h('th', { scope: 'col', 'aria-sort': sort === 'name' ? 'ascending' : null }, t.colPolicy),
				h('th', { scope: 'col' }, t.colInsurer),
				h('th', { scope: 'col', 'aria-sort': sort === 'status' ? 'ascending' : null }, careName),
				h('th', { scope: 'col' }, t.colNotes))),
			tbody)));
		this.announce(t.overviewTitle(entry.year) + '. ' + t.liveOverview(rows.length, entry.year));
	};

	Widget.prototype.openPolicy = function (id) {
		this.state.policy = id;
		this.writeUrl(false);
		if (this.policySelect)
			this.policySelect.value = id;
		this.renderPanel(this.yearEntry());
		var title = this.byId(this.id('panel-title'));
		if (title)
			title.focus();
	};

	Widget.prototype.renderStatus = function (st) {
		var self = this, t = this.t(), lang = this.state.lang, c = st.consequence || {};
		var f = st.flags || {}, pres = c.presentation || st.status;
		var card = h('article', {
			className: 'zs-care zs-status-' + st.status + ' zs-pres-' + pres, 'data-care-type': st.care_type,
			'data-status': st.status, 'data-presentation': pres, 'data-consequence': c.code || null
		});
		/* one visual state: the consequence's presentation, as colour and word */
		card.appendChild(h('div', { className: 'zs-care-head' },
			this.heading(3, { className: 'zs-care-title' }, this.L('care_type', st.care_type)),
			h('span', { className: 'zs-badge zs-badge-' + pres, 'data-status': st.status, 'data-presentation': pres },
				c.headline || this.L('status', st.status))));

		/* flags the text does not already say */
		var flags = h('ul', { className: 'zs-flags' });
		if (f.ceiling) {
			var ex = (f.ceiling_exempt || []).map(function (x) {
				return self.labels && self.labels.situation && self.labels.situation[x] ? self.labels.situation[x] : self.L('care_type', x);
			});
			flags.appendChild(h('li', { className: 'zs-flag', 'data-flag': 'ceiling' },
				this.L('warning', 'ceiling') + (ex.length ? ' (' + t.exempt + ' ' + ex.join(', ') + ')' : '')));
		}
		if (f.provider_only)
			flags.appendChild(h('li', { className: 'zs-flag zs-flag-warn', 'data-flag': 'provider_only' }, t.flag.provider_only));
		if (f.stale)
			flags.appendChild(h('li', { className: 'zs-flag zs-flag-warn', 'data-flag': 'stale' }, t.flag.stale));
		if (f.patient_stop && f.patient_stop.applies && f.patient_stop.note)
			flags.appendChild(h('li', { className: 'zs-flag', 'data-flag': 'patient_stop_note' }, t.stopNote + ': ',
				h('q', { lang: 'nl' }, f.patient_stop.note)));
		if (flags.firstChild)
			card.appendChild(flags);

		/* the consequence, in the API's words; the worked example is in it (once), the
		 * deductible is said once per policy below the cards */
		var text = String(c.text || '');
		if (c.deductible_text)
			text = text.replace(c.deductible_text, '').replace(/\s+$/, '');
		if (text)
			card.appendChild(h('p', { className: 'zs-text', lang: c.lang || lang }, nobreakMoney(text)));
		if (c.example)
			card.setAttribute('data-example', [c.example.amount, c.example.insurer_pays, c.example.patient_pays].join(' '));

		if (c.warnings && c.warnings.length)
			card.appendChild(this.textList(t.warnings, 'zs-warnings', c.warnings, c.lang));
		if (c.exceptions && c.exceptions.length)
			card.appendChild(this.textList(t.exceptions, 'zs-exceptions', c.exceptions, c.lang));

		/* sources, named for people, with dates */
		if (st.sources && st.sources.length) {
			var ul = h('ul', { className: 'zs-sources-list' });
			st.sources.forEach(function (src) {
				var who = src.name ? src.name + ' (' + self.L('source_kind', src.kind).toLowerCase() + ')' : self.L('source_kind', src.kind);
				var what = who + ' ' + t.says + ': ' + self.L('status', src.status) +
					(src.level ? ', ' + self.L('level', src.level) : '');
				var dates = [];
				if (src.said_at) dates.push(t.said + ' ' + dateTime(src.said_at, t));
				if (src.checked_on) dates.push(t.checked + ' ' + date(src.checked_on, t));
				ul.appendChild(h('li', { 'data-source-kind': src.kind, 'data-feed': src.feed, className: src.stale ? 'zs-source-stale' : null },
					h('span', { className: 'zs-source-what' }, what),
					dates.length ? h('span', { className: 'zs-source-when' }, dates.join(' · ')) : null,
					src.stale ? h('span', { className: 'zs-source-flag' }, t.sourceStale) : null));
			});
			card.appendChild(h('div', { className: 'zs-sources' },
				this.heading(4, { className: 'zs-subtitle' }, t.sources), ul,
				st.since ? h('p', { className: 'zs-hint zs-since' }, t.since + ' ' + date(st.since, t) + '.') : null));
		}
		return card;
	};

	Widget.prototype.textList = function (title, cls, items, lang) {
		var ul = h('ul', null);
		items.forEach(function (it) {
			ul.appendChild(h('li', { 'data-code': it.code, lang: lang || null }, it.text));
		});
		return h('div', { className: cls }, this.heading(4, { className: 'zs-subtitle' }, title), ul);
	};

	/* ---- mounting ------------------------------------------------------------------------- */
	function apiFrom(el) {
		var a = el.getAttribute('data-api');
		if (a != null)
			return a;
		if (scriptSrc) {
			try {
				var u = new URL(scriptSrc, window.location.href);
				if (u.origin !== window.location.origin)
					return u.origin;
			} catch (e) { /* fall through: same origin */ }
		}
		return '';
	}

	/* widget.css from the place widget.js came from (else from the API's /www/) */
	function cssHref(api) {
		if (scriptSrc)
			return scriptSrc.replace(/widget\.js(?=\?|$)/, 'widget.css'); /* ?v=... kept */
		return api + '/www/widget.css';
	}

	/* an open shadow root on the host element; where the element cannot have one (e.g. a
	 * <ul>), on a <div> inside it; null without Shadow DOM support */
	function attachShadow(host) {
		if (typeof host.attachShadow !== 'function')
			return null;
		if (host.shadowRoot)
			return host.shadowRoot;
		try {
			return host.attachShadow({ mode: 'open' });
		} catch (e) {
			var box = document.createElement('div');
			host.appendChild(box);
			return box.attachShadow({ mode: 'open' });
		}
	}

	/* only without Shadow DOM: the stylesheet in the page (once) */
	function ensureCss(api) {
		if (document.getElementById('zs-widget-css'))
			return;
		var link = h('link', { rel: 'stylesheet', href: cssHref(api), id: 'zs-widget-css' });
		(document.head || document.documentElement).appendChild(link);
	}

	function mount(el, opts) {
		if (!el || el.zsWidget)
			return el && el.zsWidget;
		opts = opts || {};
		var attr = function (n) { var v = el.getAttribute('data-' + n); return v == null ? undefined : v; };
		var o = {
			api: opts.api != null ? opts.api : apiFrom(el),
			lang: opts.lang || attr('lang') || 'nl',
			q: opts.q || attr('q'), agb: opts.agb || attr('agb'), policy: opts.policy || attr('policy'),
			year: opts.year || attr('year'), amount: opts.amount || attr('amount'),
			urlState: opts.urlState != null ? opts.urlState : (attr('url-state') != null && attr('url-state') !== 'false'),
			headingLevel: opts.headingLevel || attr('heading-level')
		};
		var w = new Widget(el, o);
		/* the element keeps its widget (a property, not a global) */
		el.zsWidget = w;
		if (o.urlState)
			window.addEventListener('popstate', function () {
				w.readUrl();
				w.paintFrame();
				w.searchInput.value = w.state.q;
				w.showError(null);
				if (w.state.agb) {
					w.loadProvider(false);
				} else {
					w.data = null;
					clear(w.providerEl);
					w.providerEl.hidden = true;
					w.paintFrame();
					w.searchNow(w.state.q);
				}
			});
		return w;
	}

	function mountAll() {
		var els = document.querySelectorAll('[data-zorgstatus]');
		for (var i = 0; i < els.length; i++)
			mount(els[i]);
	}

	window.ZorgStatus = { version: VERSION, mount: mount, mountAll: mountAll };

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', mountAll);
	else
		mountAll();
})();
