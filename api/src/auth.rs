//! Bearer-JWT authentication. A token names either a staff member of one practice or the platform
//! operator (who may create practices and nothing else). What a staff member may *do* is decided
//! by the access read model, not by the token.

use std::sync::Arc;

use axum::{extract::FromRequestParts, http::request::Parts};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::Problem;

pub const ISSUER: &str = "hearth";
const OPERATOR_SUBJECT: &str = "operator";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// `operator`, or the staff member's id.
    pub sub: String,
    /// The practice a staff token belongs to; absent for the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practice: Option<Uuid>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Operator,
    Staff { practice: Uuid, staff: Uuid },
}

#[derive(Clone)]
pub struct JwtKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Tokens already verified, with their expiry: a client sends the same token with every
    /// request, and checking its signature each time was a measurable share of an access check.
    verified: Arc<std::sync::RwLock<std::collections::HashMap<String, (Caller, i64)>>>,
    /// Seconds a token is still accepted past its `exp`, for clock skew between minting and
    /// verifying hosts. Kept small and explicit: the library's default (60 s) let expired tokens
    /// through for a minute.
    leeway_secs: u64,
}

/// Default clock-skew allowance on `exp` (`HEARTH_JWT_LEEWAY_SECS`).
pub const DEFAULT_LEEWAY_SECS: u64 = 5;

/// Verified tokens remembered at most; the memory is dropped and rebuilt when full.
const VERIFIED_CACHE: usize = 10_000;

impl JwtKeys {
    pub fn from_secret(algorithm: &str, secret: &[u8]) -> Result<Self, String> {
        let algorithm: Algorithm = algorithm
            .parse()
            .map_err(|_| format!("unknown JWT algorithm {algorithm}"))?;
        if !matches!(
            algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(format!(
                "JWT algorithm {algorithm:?} needs a key pair; use HS256, HS384 or HS512"
            ));
        }
        if secret.len() < 32 {
            return Err("the JWT secret must be at least 32 bytes".into());
        }
        Ok(Self {
            algorithm,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            verified: Arc::default(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
        })
    }

    /// Accept tokens up to `secs` past their expiry (clock skew), instead of the default.
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    pub fn mint(
        &self,
        caller: Caller,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let (sub, practice) = match caller {
            Caller::Operator => (OPERATOR_SUBJECT.to_string(), None),
            Caller::Staff { practice, staff } => (staff.to_string(), Some(practice)),
        };
        let claims = Claims {
            sub,
            practice,
            iss: ISSUER.into(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    pub fn verify(&self, token: &str) -> Result<Caller, Problem> {
        let now = Utc::now().timestamp();
        if let Some((caller, exp)) = self
            .verified
            .read()
            .ok()
            .and_then(|m| m.get(token).copied())
        {
            if exp > now {
                return Ok(caller);
            }
        }
        let (caller, exp) = self.verify_signed(token)?;
        if let Ok(mut m) = self.verified.write() {
            if m.len() >= VERIFIED_CACHE {
                m.clear();
            }
            m.insert(token.to_string(), (caller, exp));
        }
        Ok(caller)
    }

    fn verify_signed(&self, token: &str) -> Result<(Caller, i64), Problem> {
        let mut validation = Validation::new(self.algorithm);
        validation.leeway = self.leeway_secs;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| Problem::unauthorized(format!("invalid bearer token: {e}")))?;
        let claims = data.claims;
        if claims.sub == OPERATOR_SUBJECT {
            return Ok((Caller::Operator, claims.exp));
        }
        let staff = Uuid::parse_str(&claims.sub)
            .map_err(|_| Problem::unauthorized("token subject is not a staff id"))?;
        let practice = claims
            .practice
            .ok_or_else(|| Problem::unauthorized("staff token names no practice"))?;
        Ok((Caller::Staff { practice, staff }, claims.exp))
    }
}

/// Anything that can hand out the keys, so the extractor works with the app state.
pub trait HasJwtKeys {
    fn jwt_keys(&self) -> &Arc<JwtKeys>;
}

impl<S> FromRequestParts<S> for Caller
where
    S: HasJwtKeys + Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| Problem::unauthorized("send Authorization: Bearer <token>"))?;
        let value = header
            .to_str()
            .map_err(|_| Problem::unauthorized("malformed Authorization header"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| Problem::unauthorized("the Authorization scheme must be Bearer"))?;
        state.jwt_keys().verify(token.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_tokens_still_expire_and_forged_ones_are_never_remembered() {
        let k = keys();
        let caller = Caller::Staff {
            practice: Uuid::new_v4(),
            staff: Uuid::new_v4(),
        };
        let token = k
            .mint(caller, Utc::now(), chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(k.verify(&token).unwrap(), caller);
        assert_eq!(k.verify(&token).unwrap(), caller, "answered from memory");
        let forged = format!("{}x", token);
        assert!(k.verify(&forged).is_err() && k.verify(&forged).is_err());
        // An entry past its expiry is checked again (and refused).
        let stale = k
            .mint(
                caller,
                Utc::now() - chrono::Duration::hours(3),
                chrono::Duration::hours(1),
            )
            .unwrap();
        k.verified
            .write()
            .unwrap()
            .insert(stale.clone(), (caller, Utc::now().timestamp() - 1));
        assert!(k.verify(&stale).is_err());
    }

    fn keys() -> JwtKeys {
        JwtKeys::from_secret("HS256", &[7u8; 32]).unwrap()
    }

    #[test]
    fn a_minted_staff_token_verifies_to_the_same_caller() {
        let caller = Caller::Staff {
            practice: Uuid::new_v4(),
            staff: Uuid::new_v4(),
        };
        let token = keys()
            .mint(caller, Utc::now(), chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(keys().verify(&token).unwrap(), caller);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = keys()
            .mint(
                Caller::Operator,
                Utc::now() - chrono::Duration::hours(3),
                chrono::Duration::hours(1),
            )
            .unwrap();
        assert_eq!(keys().verify(&token).unwrap_err().status.as_u16(), 401);
    }

    #[test]
    fn a_token_past_its_expiry_by_more_than_the_leeway_is_refused() {
        // Ten seconds past expiry: inside the library's 60 s default, outside Hearth's 5 s.
        let token = keys()
            .mint(
                Caller::Operator,
                Utc::now() - chrono::Duration::seconds(70),
                chrono::Duration::seconds(60),
            )
            .unwrap();
        assert_eq!(keys().verify(&token).unwrap_err().status.as_u16(), 401);
        let lenient = keys().with_leeway(30);
        assert_eq!(lenient.verify(&token).unwrap(), Caller::Operator);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = JwtKeys::from_secret("HS256", &[9u8; 32]).unwrap();
        let token = other
            .mint(Caller::Operator, Utc::now(), chrono::Duration::hours(1))
            .unwrap();
        assert!(keys().verify(&token).is_err());
    }

    #[test]
    fn short_secrets_are_rejected_at_start_up() {
        assert!(JwtKeys::from_secret("HS256", b"short").is_err());
    }
}
