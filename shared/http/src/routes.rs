//! Routes, declared once. Each HTTP function lists its routes in one [`Routes`] table: the method, the path
//! template as `template.yaml` writes it, and what the function does there. A request resolves against that
//! table here, and only here are 404 (no route has the path) and 405 (a route has the path, not the method;
//! with `Allow`) decided. The route test (`tests/it/routes.rs`) checks every table against `template.yaml` and
//! `docs/openapi.json`.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use super::problem::Problem;

/// One route: method, path template (`/stores/{storeId}/events`), and where it goes.
pub type Route<R> = (&'static str, &'static str, R);

/// A function's routes.
#[derive(Debug)]
pub struct Routes<R: 'static>(pub &'static [Route<R>]);

/// What each `{name}` of a template matched.
type Params<'a> = Vec<(&'static str, &'a str)>;

/// The route a request took, with the raw (still percent-encoded) path segments its parameters matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a, R> {
    pub to: R,
    params: Params<'a>,
}

impl<'a, R> Matched<'a, R> {
    /// The segment the template's `{name}` matched.
    pub fn param(&self, name: &str) -> &'a str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| *value)
            .unwrap_or_else(|| panic!("the route has no parameter {name}"))
    }
}

impl<R: Copy> Routes<R> {
    /// The route of `method` and `path` (as [`route_path`] gives it). Where several templates take the path,
    /// the one with more literal segments, counted from the left, wins (as API Gateway chooses).
    pub fn resolve<'a>(&self, method: &str, path: &'a str) -> Result<Matched<'a, R>, Problem> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<(Vec<bool>, Matched<'a, R>)> = None;
        let mut allowed: Vec<&str> = Vec::new();
        for (route_method, template, to) in self.0 {
            let Some((literals, params)) = matches(template, &segments) else {
                continue;
            };
            if *route_method != method {
                if !allowed.contains(route_method) {
                    allowed.push(route_method);
                }
                continue;
            }
            if best.as_ref().is_none_or(|(rank, _)| literals > *rank) {
                best = Some((literals, Matched { to: *to, params }));
            }
        }
        match best {
            Some((_, matched)) => Ok(matched),
            None if allowed.is_empty() => Err(Problem::not_found("Resource")),
            None => Err(Problem::method_not_allowed(&allowed.join(", "))),
        }
    }

    /// Every route's method and path template.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.0.iter().map(|(method, template, _)| (*method, *template))
    }
}

/// Whether `template` takes `segments`: which of its segments were literal, and what each `{name}` matched.
fn matches<'a>(template: &'static str, segments: &[&'a str]) -> Option<(Vec<bool>, Params<'a>)> {
    let parts: Vec<&'static str> = template.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literals = Vec::with_capacity(parts.len());
    let mut params = Vec::new();
    for (part, segment) in parts.into_iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => {
                params.push((name, *segment));
                literals.push(false);
            }
            None if part == *segment => literals.push(true),
            None => return None,
        }
    }
    Some((literals, params))
}

/// The request's path as the routes see it: the raw path, without the stage's prefix that a named stage puts
/// in front (`/prod/stores/…`).
pub fn route_path(request: &Request) -> &str {
    let path = request.raw_http_path();
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.as_deref(),
        _ => None,
    };
    match stage.filter(|s| !s.is_empty() && *s != "$default") {
        Some(stage) => path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(stage))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .unwrap_or(path),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum To {
        Events,
        Event,
        Bulk,
        Deactivate,
    }

    static ROUTES: Routes<To> = Routes(&[
        ("POST", "/stores/{storeId}/events", To::Events),
        ("GET", "/stores/{storeId}/events/{eventId}", To::Event),
        ("POST", "/stores/{storeId}/events/bulk", To::Bulk),
        ("PUT", "/subscriptions/{id}/deactivate", To::Deactivate),
    ]);

    #[test]
    fn when_a_path_and_method_match_should_route_with_the_parameters() {
        let matched = ROUTES.resolve("POST", "/stores/s1/events").unwrap();
        assert_eq!((matched.to, matched.param("storeId")), (To::Events, "s1"));
        let event = ROUTES.resolve("GET", "/stores/s1/events/e%201/").unwrap();
        assert_eq!((event.to, event.param("eventId")), (To::Event, "e%201"));
        assert_eq!(ROUTES.resolve("POST", "/stores/s1/events/bulk").unwrap().to, To::Bulk);
    }

    #[test]
    fn when_the_path_is_known_but_not_the_method_should_answer_405_with_allow() {
        let problem = ROUTES.resolve("DELETE", "/stores/s1/events/bulk").unwrap_err();
        assert_eq!(problem.status, 405);
        assert_eq!(
            problem.allow.as_deref(),
            Some("GET, POST"),
            "both templates take the path"
        );
        assert_eq!(
            ROUTES
                .resolve("GET", "/subscriptions/x/deactivate")
                .unwrap_err()
                .allow
                .as_deref(),
            Some("PUT")
        );
    }

    #[test]
    fn when_no_template_takes_the_path_should_answer_404() {
        for path in [
            "/",
            "/stores",
            "/stores/s1",
            "/other/s1/events",
            "/stores/s1/events/e1/more",
            "/x/stores/s1/events",
        ] {
            assert_eq!(ROUTES.resolve("POST", path).unwrap_err().status, 404, "{path}");
        }
    }
}
