//! `null` data source: `output` = `input` (for tests and to force dependencies).

use std::collections::BTreeMap;

use crate::components::{ComponentInfo, DataSource};
use crate::template::ConfigReader;
use crate::value::Value;

pub struct NullData {
    input: String,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    let input = r.string("input").unwrap_or_default();
    if input.is_empty() {
        r.prepare_error("The `input` must be specified");
    }
    Some(Box::new(NullData { input }))
}

impl DataSource for NullData {
    fn execute(&self) -> Result<BTreeMap<String, Value>, crate::datasources::DataSourceError> {
        let mut m = BTreeMap::new();
        m.insert("output".to_string(), Value::str(&self.input));
        Ok(m)
    }
}
