// Package graphfake is the part of a fake Meta Graph API that does not
// depend on the product: the error objects and injectable faults, token
// checks, the per-account call budget with its X-Business-Use-Case-Usage
// header, cursor paging, the fields parameter and JSON output, and which
// post a demo comment hangs on (AddDemo, Demo.Root). The
// Facebook Pages fake (collectors/facebook/facebookfake) and the Instagram
// fake (collectors/instagram/instagramfake) build on it and keep their
// own objects, ids, field names and endpoints; the few product-specific
// values here (the business use case error and header type) come in a
// Platform.
//
// It mirrors the way collectors/facebook/graph serves both collectors:
// Facebook and Instagram are the same API on graph.facebook.com, so their
// fakes share one transport too.
package graphfake
