# zorgstatus.vcl - Varnish (Debian: varnish, varnish-modules) in front of zorgstatusd.
#
# Caches the public API for hours: the daemon purges exactly the answers that depend on what
# a new snapshot changed (every public answer carries "xkey: p:<agb> y:<year> ..."; the daemon's
# [cache NAME] section sends "PURGE" with "xkey-purge: <keys>", see docs/config.md), so a
# change is visible within seconds. ETags are kept: a client's If-None-Match is answered 304
# from the cache, and an expired object is revalidated with the daemon by its ETag.
# Staff endpoints (Authorization, history, /v1/subscribers), /v1/feeds, /metrics, /readyz and
# /healthz are passed, never cached.
#
# The test suite (tests/blackbox/test_varnish.py) runs varnishd with this file, replacing the
# backend port. With several daemons, point the backend at haproxy
# (packaging/haproxy/zorgstatus.cfg) and list every daemon's address in "purgers".
vcl 4.1;

import xkey;

backend zorgstatus {
	.host = "127.0.0.1";
	.port = "8080";
	.probe = {
		.url = "/readyz";
		.interval = 2s;
		.timeout = 1s;
		.window = 3;
		.threshold = 2;
		.initial = 2;
	}
}

# Who may purge: the daemons (their address as Varnish sees it).
acl purgers {
	"127.0.0.1";
	"::1";
}

sub vcl_recv {
	if (req.method == "PURGE") {
		if (client.ip !~ purgers) {
			return (synth(403, "Forbidden"));
		}
		if (!req.http.xkey-purge && req.http.xkey) {
			set req.http.xkey-purge = req.http.xkey;
		}
		if (!req.http.xkey-purge) {
			return (synth(400, "xkey-purge header required"));
		}
		# "*": everything changed (the daemon sends it when its marks were pruned)
		if (req.http.xkey-purge ~ "(^|[ ,])\*([ ,]|$)") {
			ban("obj.status != 0");
			return (synth(200, "Banned everything"));
		}
		set req.http.n-gone = xkey.purge(req.http.xkey-purge);
		return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
	}
	if (req.method != "GET" && req.method != "HEAD") {
		return (pass);
	}
	if (req.http.Authorization) {
		return (pass);
	}
	if (req.url ~ "^/(metrics|readyz|healthz)([/?]|$)" ||
	    req.url ~ "^/v1/(feeds|subscribers|staff)([/?]|$)" ||
	    req.url ~ "^/v1/providers/[^/?]+/history") {
		return (pass);
	}
	unset req.http.Cookie;
	return (hash);
}

sub vcl_backend_response {
	if (bereq.uncacheable) {
		return (deliver);
	}
	if (beresp.http.xkey && (beresp.status == 200 || beresp.status == 404)) {
		# held for hours: the daemon's purges remove an answer as soon as it changes
		set beresp.ttl = 4h;
		set beresp.grace = 30s;
		# after the TTL, revalidate with If-None-Match (the daemon answers 304)
		set beresp.keep = 4h;
	}
	return (deliver);
}

sub vcl_deliver {
	if (obj.hits > 0) {
		set resp.http.X-Cache = "HIT";
	} else {
		set resp.http.X-Cache = "MISS";
	}
}
