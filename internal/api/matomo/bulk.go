package matomo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxBulk bounds the requests of one API.getBulkRequest.
const maxBulk = 100

// maxBulkVisits bounds the visitor log inside a bulk request, which is answered as a whole,
// not streamed: one Live.getLastVisitsDetails of at most this many visits per bulk request.
const maxBulkVisits = 100

// bulk is the answer of API.getBulkRequest: one answer per request, in order.
type bulk []any

// MarshalJSON writes the answers as an array, errors in Matomo's error shape.
func (b bulk) MarshalJSON() ([]byte, error) {
	out := make([]any, len(b))
	for i, v := range b {
		out[i] = jsonShape(v)
	}
	return json.Marshal(out)
}

// bulkRequest serves API.getBulkRequest: urls[0], urls[1], … each hold a URL-encoded query
// string of one call, run as the caller with the caller's rights and checks. A request for
// another bulk request is refused.
func (a *API) bulkRequest(ctx context.Context, c *call) (any, error) {
	var reqs []string
	for i := 0; ; i++ {
		v, ok := c.params[fmt.Sprintf("urls[%d]", i)]
		if !ok {
			break
		}
		if i == maxBulk {
			return nil, errorf(400, "API.getBulkRequest takes at most %d requests.", maxBulk)
		}
		reqs = append(reqs, v[0])
	}
	if len(reqs) == 0 {
		return nil, errorf(400, "Please specify a value for 'urls'.")
	}
	out := make(bulk, len(reqs))
	visitLogs := 0
	for i, raw := range reqs {
		q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
		if err != nil {
			out[i] = errorf(400, "Request %d of the bulk request is not a valid query string.", i)
			continue
		}
		q.Del("token_auth")
		name := q.Get("method")
		if name == "API.getBulkRequest" {
			out[i] = errorf(400, "A bulk request cannot contain another bulk request.")
			continue
		}
		if a.methods[name].password {
			// Each password check costs an argon2 hash and counts towards a lockout: one
			// request must not run a hundred of them.
			out[i] = errorf(400, "%s takes a password and cannot be called inside a bulk request: send it in a request of its own.", name)
			continue
		}
		if name == "Live.getLastVisitsDetails" {
			if visitLogs++; visitLogs > 1 || !smallVisitLog(q) {
				out[i] = errorf(400, "Inside a bulk request, Live.getLastVisitsDetails lists at most %d visits, once: ask for more in a request of its own, whose answer streams.", maxBulkVisits)
				continue
			}
		}
		sub := &call{params: q, principal: c.principal, format: "json", post: c.post, ip: c.ip, passwordChecks: c.passwordChecks}
		out[i], _ = a.dispatch(ctx, sub, name)
	}
	return out, nil
}

// smallVisitLog reports whether a visitor-log call asks for at most maxBulkVisits visits (its
// default, 100, when it names no filter_limit).
func smallVisitLog(q url.Values) bool {
	s := q.Get("filter_limit")
	if s == "" {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= maxBulkVisits
}
