package matomo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// maxBulk bounds the requests of one API.getBulkRequest.
const maxBulk = 100

// maxBulkRows bounds the visitor log inside a bulk request, which is answered as a whole,
// not streamed: the visits and actions of all its visitor-log answers together (500-action
// visits: 100 of them).
const maxBulkRows = 50_000

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
	held := 0
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
		sub := &call{params: q, principal: c.principal, format: "json", post: c.post, ip: c.ip, passwordChecks: c.passwordChecks}
		out[i], _ = a.dispatch(ctx, sub, name)
		if l, ok := out[i].(*visitLog); ok {
			if n := l.rows(); held+n <= maxBulkRows {
				held += n
			} else {
				out[i] = errorf(400, "The visitor log answers of this bulk request hold more than %d visits and actions together: ask for this one in a request of its own, whose answer streams, or with a smaller filter_limit.", maxBulkRows)
			}
		}
	}
	return out, nil
}
