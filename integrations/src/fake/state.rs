use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::faults::Faults;

/// What the fake checks callers against, like a real XPLAN site with Hearth registered.
#[derive(Clone, Debug)]
pub struct FakeSettings {
    pub client_id: String,
    pub client_secret: String,
    pub app_id: String,
    pub access_token_ttl_secs: i64,
}

impl Default for FakeSettings {
    fn default() -> Self {
        Self {
            client_id: "hearth".into(),
            client_secret: "hearth-secret".into(),
            app_id: "hearth-app".into(),
            access_token_ttl_secs: 3600,
        }
    }
}

/// One client as XPLAN holds it: its fields (typed values as XPLAN sends them) and sub-lists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FakeClient {
    pub id: u64,
    pub fields: Map<String, Value>,
    pub contacts: Vec<Value>,
    pub addresses: Vec<Value>,
    pub policies: Vec<Value>,
}

impl FakeClient {
    pub fn new(id: u64, first_name: &str, last_name: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("first_name".into(), json!(first_name));
        fields.insert("last_name".into(), json!(last_name));
        Self {
            id,
            fields,
            ..Default::default()
        }
    }

    pub fn set(&mut self, field: &str, value: Value) -> &mut Self {
        self.fields.insert(field.into(), value);
        self
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordedAttachment {
    pub filename: String,
    pub mimetype: String,
    pub content: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordedNote {
    pub docid: String,
    /// When the fake received it (for end-to-end latency figures).
    pub received_at: DateTime<Utc>,
    /// The JSON the caller posted.
    pub body: Value,
    pub attachments: Vec<RecordedAttachment>,
}

pub(crate) struct Inner {
    pub settings: FakeSettings,
    pub clients: BTreeMap<u64, FakeClient>,
    pub users: HashMap<u64, Value>,
    /// One-time authorisation codes → the state they were issued for.
    pub codes: HashMap<String, String>,
    pub access: HashMap<String, DateTime<Utc>>,
    pub refresh: HashSet<String>,
    pub notes: Vec<RecordedNote>,
    pub faults: Faults,
}

impl Inner {
    pub fn new(settings: FakeSettings) -> Self {
        Self {
            settings,
            clients: BTreeMap::new(),
            users: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashSet::new(),
            notes: Vec::new(),
            faults: Faults::default(),
        }
    }

    pub fn put_user(&mut self, id: u64, first_name: &str, last_name: &str, email: &str) {
        self.users.insert(
            id,
            json!({"id": id, "first_name": first_name, "last_name": last_name, "email": email}),
        );
    }

    pub fn issue_code(&mut self, state: &str) -> String {
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        self.codes.insert(code.clone(), state.to_string());
        code
    }

    pub fn issue_tokens(&mut self) -> Value {
        let access = format!("at-{}", uuid::Uuid::new_v4().simple());
        let refresh = format!("rt-{}", uuid::Uuid::new_v4().simple());
        let ttl = self.settings.access_token_ttl_secs;
        self.access
            .insert(access.clone(), Utc::now() + chrono::Duration::seconds(ttl));
        self.refresh.insert(refresh.clone());
        json!({"access_token": access, "token_type": "Bearer", "expires_in": ttl, "refresh_token": refresh})
    }

    pub fn token_valid(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|exp| *exp > Utc::now())
    }
}
