//! The catalog of cluster creation parameters: channels with their generations, regions
//! and plan types. Loaded once at start from a TOML file or the built-in default.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

const DEFAULT_CATALOG: &str = include_str!("default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub channels: Vec<Channel>,
    pub regions: Vec<Region>,
    pub plan_types: Vec<PlanType>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub auto_update: bool,
    pub default_generation: String,
    /// Oldest first.
    pub generations: Vec<Generation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    pub id: String,
    pub name: String,
    /// Component name (`zeebe`, `operate`, ...) to the version this generation runs; handed
    /// to the provisioning driver, which installs those versions.
    #[serde(default)]
    pub versions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    /// The short code used in links, e.g. `bru-2`.
    pub short: String,
    pub provider: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanType {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub suspendable: bool,
}

impl Catalog {
    pub fn builtin() -> Self {
        Self::parse(DEFAULT_CATALOG).expect("the built-in catalog is valid")
    }

    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(Self::builtin()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading catalog {}", path.display()))?;
                Self::parse(&text).with_context(|| format!("in catalog {}", path.display()))
            }
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let catalog: Catalog = toml::from_str(text)?;
        catalog.validate()?;
        Ok(catalog)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.channels.is_empty() || self.regions.is_empty() || self.plan_types.is_empty() {
            bail!("a catalog needs at least one channel, region and plan type");
        }
        let mut ids = HashSet::new();
        let entity_ids = self
            .channels
            .iter()
            .map(|c| &c.id)
            .chain(self.regions.iter().map(|r| &r.id))
            .chain(self.plan_types.iter().map(|p| &p.id));
        for id in entity_ids {
            if id.trim().is_empty() || !ids.insert(id) {
                bail!("id {id:?} is empty or used twice");
            }
        }
        let names = self
            .channels
            .iter()
            .map(|c| &c.name)
            .chain(self.regions.iter().map(|r| &r.name))
            .chain(self.plan_types.iter().map(|p| &p.name))
            .chain(
                self.channels
                    .iter()
                    .flat_map(|c| c.generations.iter().map(|g| &g.name)),
            );
        for name in names {
            if name.trim().is_empty() {
                bail!("every channel, generation, region and plan type needs a name");
            }
        }
        for channel in &self.channels {
            if channel.generations.is_empty() {
                bail!("channel {:?} has no generations", channel.name);
            }
            // Found by the property tests: a repeated generation id made upgrades ambiguous.
            let mut generation_ids = HashSet::new();
            for generation in &channel.generations {
                if generation.id.trim().is_empty() || !generation_ids.insert(&generation.id) {
                    bail!(
                        "channel {:?}: generation id {:?} is empty or used twice",
                        channel.name,
                        generation.id
                    );
                }
            }
            if channel.generation(&channel.default_generation).is_none() {
                bail!(
                    "channel {:?}: default generation is not among its generations",
                    channel.name
                );
            }
        }
        for region in &self.regions {
            let short_ok = !region.short.is_empty()
                && region
                    .short
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !short_ok {
                bail!(
                    "region {:?}: short code must be letters, digits and '-'",
                    region.name
                );
            }
        }
        Ok(())
    }

    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn plan_type(&self, id: &str) -> Option<&PlanType> {
        self.plan_types.iter().find(|p| p.id == id)
    }

    /// A generation by id, from whichever channel lists it.
    pub fn generation(&self, id: &str) -> Option<&Generation> {
        self.channels.iter().find_map(|c| c.generation(id))
    }
}

impl Channel {
    pub fn generation(&self, id: &str) -> Option<&Generation> {
        self.generations.iter().find(|g| g.id == id)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.generations.iter().position(|g| g.id == id)
    }

    pub fn default_generation(&self) -> &Generation {
        self.generation(&self.default_generation)
            .expect("validated: the default generation exists")
    }

    /// The newest generation of this channel when it is newer than `current`.
    pub fn newest_after(&self, current: &str) -> Option<&Generation> {
        let newest = self.generations.len() - 1;
        match self.position(current) {
            Some(pos) if pos < newest => self.generations.last(),
            Some(_) => None,
            // A generation the channel no longer lists: the default is the way forward.
            None => Some(self.default_generation()),
        }
    }

    /// The default generation when it is newer than `current` (what auto-update follows).
    pub fn default_if_newer(&self, current: &str) -> Option<&Generation> {
        let default_pos = self.position(&self.default_generation)?;
        match self.position(current) {
            Some(pos) if pos >= default_pos => None,
            _ => Some(self.default_generation()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_resembles_the_hosted_service() {
        let catalog = Catalog::builtin();
        let names: Vec<_> = catalog.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Stable", "Alpha"]);
        assert!(catalog
            .plan_types
            .iter()
            .any(|p| p.name == "Trial Cluster" && p.suspendable));
        assert!(catalog.regions.iter().any(|r| r.short == "bru-2"));
    }

    #[test]
    fn upgrade_targets_follow_generation_order() {
        let catalog = Catalog::builtin();
        let stable = &catalog.channels[0];
        let old = &stable.generations[0].id;
        let new = &stable.generations[1].id;
        assert_eq!(stable.newest_after(old).map(|g| &g.id), Some(new));
        assert!(stable.newest_after(new).is_none());
        assert_eq!(stable.default_if_newer(old).map(|g| &g.id), Some(new));
        assert!(stable.default_if_newer(new).is_none());
    }

    #[test]
    fn invalid_catalogs_are_rejected() {
        let missing_default = r#"
            [[channels]]
            id = "c"
            name = "C"
            default_generation = "nope"
            generations = [{ id = "g", name = "G" }]
            [[regions]]
            id = "r"
            name = "R"
            short = "r-1"
            provider = "p"
            [[plan_types]]
            id = "p"
            name = "P"
        "#;
        assert!(Catalog::parse(missing_default).is_err());
        let valid = missing_default.replace("\"nope\"", "\"g\"");
        assert!(Catalog::parse(&valid).is_ok());
        let repeated_generation = valid.replace(
            r#"[{ id = "g", name = "G" }]"#,
            r#"[{ id = "g", name = "G" }, { id = "g", name = "G2" }]"#,
        );
        assert!(Catalog::parse(&repeated_generation).is_err());
        assert!(Catalog::parse(&valid.replace(r#"name = "R""#, r#"name = " ""#)).is_err());
        assert!(Catalog::parse("channels = []\nregions = []\nplan_types = []").is_err());
        assert!(Catalog::parse("unknown = 1").is_err());
    }
}

/// Property tests: a catalog file is operator input, read at start.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Ids from a small pool, so that clashes happen; now and then empty or blank.
    fn id(kind: &'static str) -> impl Strategy<Value = String> {
        prop_oneof![
            1 => Just(String::new()),
            1 => Just(" ".to_string()),
            1 => "[a-z]",
            12 => "[12]".prop_map(move |n| format!("{kind}{n}")),
        ]
    }

    fn quoted(text: &str) -> String {
        toml::Value::String(text.to_string()).to_string()
    }

    /// A catalog file built from random parts.
    fn catalog_text() -> impl Strategy<Value = String> {
        let generation = (id("g"), "[A-Za-z0-9 .]{0,6}");
        let channel = (
            id("c"),
            "[A-Za-z]{0,6}",
            any::<bool>(),
            id("g"),
            proptest::collection::vec(generation, 0..4),
        );
        let short = prop_oneof![4 => "[a-z0-9-]{1,5}", 1 => "[a-z0-9_ -]{0,5}"];
        let region = (id("r"), "[A-Za-z ]{0,6}", short);
        let plan = (id("p"), "[A-Za-z ]{0,6}", any::<bool>());
        (
            proptest::collection::vec(channel, 1..3),
            proptest::collection::vec(region, 1..3),
            proptest::collection::vec(plan, 1..3),
        )
            .prop_map(|(channels, regions, plans)| {
                let mut text = String::new();
                for (id, name, auto, default, generations) in channels {
                    let generations: Vec<String> = generations
                        .iter()
                        .map(|(g, n)| format!("{{ id = {}, name = {} }}", quoted(g), quoted(n)))
                        .collect();
                    text += &format!(
                        "[[channels]]\nid = {}\nname = {}\nauto_update = {auto}\n\
                         default_generation = {}\ngenerations = [{}]\n\n",
                        quoted(&id),
                        quoted(&name),
                        quoted(&default),
                        generations.join(", ")
                    );
                }
                for (id, name, short) in regions {
                    text += &format!(
                        "[[regions]]\nid = {}\nname = {}\nshort = {}\nprovider = \"gcp\"\n\n",
                        quoted(&id),
                        quoted(&name),
                        quoted(&short)
                    );
                }
                for (id, name, suspendable) in plans {
                    text += &format!(
                        "[[plan_types]]\nid = {}\nname = {}\nsuspendable = {suspendable}\n\n",
                        quoted(&id),
                        quoted(&name)
                    );
                }
                text
            })
    }

    /// The built-in file with a few bytes deleted or inserted.
    fn mangled_builtin() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            (any::<usize>(), any::<bool>(), "[\\[\\]{}=\",.a-z0-9\n #-]"),
            1..6,
        )
        .prop_map(|edits| {
            let mut text: Vec<char> = DEFAULT_CATALOG.chars().collect();
            for (at, delete, with) in edits {
                let at = at % text.len();
                if delete {
                    text.remove(at);
                } else {
                    text.splice(at..at, with.chars());
                }
            }
            text.into_iter().collect()
        })
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused(
            text in prop_oneof![any::<String>(), mangled_builtin(), catalog_text()],
        ) {
            let Ok(catalog) = Catalog::parse(&text) else {
                return Ok(());
            };
            // What is accepted can be used: every lookup the server makes works.
            let mut ids = HashSet::new();
            for channel in &catalog.channels {
                prop_assert!(ids.insert(channel.id.clone()));
                let default = channel.default_generation();
                prop_assert!(catalog.generation(&default.id).is_some());
                prop_assert!(!channel.name.trim().is_empty());
                let mut generation_ids = HashSet::new();
                for generation in &channel.generations {
                    prop_assert!(!generation.id.trim().is_empty(), "{text}");
                    prop_assert!(!generation.name.trim().is_empty(), "{text}");
                    prop_assert!(generation_ids.insert(&generation.id), "{text}");
                    let _ = channel.newest_after(&generation.id);
                    let _ = channel.default_if_newer(&generation.id);
                }
                let _ = channel.newest_after("unknown");
            }
            for region in &catalog.regions {
                prop_assert!(ids.insert(region.id.clone()));
                prop_assert!(!region.short.is_empty() && !region.name.trim().is_empty());
            }
            for plan in &catalog.plan_types {
                prop_assert!(ids.insert(plan.id.clone()) && !plan.name.trim().is_empty());
            }
        }
    }
}
