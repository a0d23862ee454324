//! The pricing table: accelerator specs and instance prices, embedded as TOML
//! (`pricing.toml`) and optionally extended or overridden by the user's `--pricing FILE`.
//!
//! Every entry is validated with messages that name the file, the field and what was
//! expected. Nothing here projects or prices tokens.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use super::Precision;

/// The embedded table's text.
pub const EMBEDDED_TOML: &str = include_str!("pricing.toml");

/// Name used for the embedded table in messages.
pub const EMBEDDED_NAME: &str = "<embedded pricing.toml>";

/// GPU or custom silicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AcceleratorKind {
    Gpu,
    Custom,
}

impl AcceleratorKind {
    pub fn name(self) -> &'static str {
        match self {
            AcceleratorKind::Gpu => "gpu",
            AcceleratorKind::Custom => "custom",
        }
    }
}

/// One chip's specs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accelerator {
    /// Short key used by instances, e.g. `h100-sxm`.
    pub id: String,
    pub name: String,
    pub kind: AcceleratorKind,
    pub bf16_tflops: f64,
    pub fp8_tflops: Option<f64>,
    pub int8_tops: Option<f64>,
    pub hbm_gb: f64,
    pub hbm_gbps: f64,
    /// Unidirectional per-chip bandwidth for collectives inside one instance, GB/s.
    pub link_gbps: Option<f64>,
    pub spec_source: String,
    pub link_source: Option<String>,
}

impl Accelerator {
    /// Dense peak TFLOP/s at `precision`, and whether the chip lacks that precision so the
    /// bf16 peak was used instead (weights stored narrow, matmuls in bf16).
    pub fn peak_tflops(&self, precision: Precision) -> (f64, bool) {
        let narrow = match precision {
            Precision::Bf16 => return (self.bf16_tflops, false),
            Precision::Fp8 => self.fp8_tflops,
            Precision::Int8 => self.int8_tops,
        };
        match narrow {
            Some(t) => (t, false),
            None => (self.bf16_tflops, true),
        }
    }
}

/// How an instance is billed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Price {
    PerHour(f64),
    PerChipHour(f64),
    Unknown,
}

/// One rentable machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    /// As the provider names it, e.g. `p5.48xlarge`, `v5litepod-8`.
    pub name: String,
    pub provider: String,
    /// `Accelerator::id`.
    pub accelerator: String,
    pub chips: u64,
    pub price: Price,
    pub region: String,
    pub price_date: String,
    pub price_source: String,
}

impl Instance {
    /// Price of the whole instance per hour, when known.
    pub fn usd_per_hour(&self) -> Option<f64> {
        match self.price {
            Price::PerHour(p) => Some(p),
            Price::PerChipHour(p) => Some(p * self.chips as f64),
            Price::Unknown => None,
        }
    }
}

/// A price for local devices, matched against the device name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalPrice {
    /// Case-insensitive substring of the device name.
    pub device: String,
    pub usd_per_hour: f64,
    pub price_source: String,
}

/// The validated, merged table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pricing {
    pub accelerators: Vec<Accelerator>,
    pub instances: Vec<Instance>,
    pub local: Vec<LocalPrice>,
    /// Source keys used by `spec_source`, `link_source` and `price_source`, with what they name.
    pub sources: BTreeMap<String, String>,
    pub usable_memory_fraction: f64,
    /// Most concurrent sequences one replica serves when the batch is not given.
    pub max_batch: u64,
}

impl Pricing {
    /// The embedded table alone.
    pub fn embedded() -> Result<Pricing> {
        let raw = parse_raw(EMBEDDED_TOML, EMBEDDED_NAME)?;
        let mut p = Pricing {
            accelerators: Vec::new(),
            instances: Vec::new(),
            local: Vec::new(),
            sources: BTreeMap::new(),
            usable_memory_fraction: 0.0,
            max_batch: 0,
        };
        p.merge(raw, EMBEDDED_NAME, true)?;
        Ok(p)
    }

    /// The embedded table, then `user` (if any) merged over it.
    pub fn load(user: Option<&Path>) -> Result<Pricing> {
        let mut p = Pricing::embedded()?;
        if let Some(path) = user {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow!("could not read pricing file '{name}': {e}"))?;
            let raw = parse_raw(&text, &name)?;
            p.merge(raw, &name, false)?;
        }
        Ok(p)
    }

    /// Accelerator by id.
    pub fn accelerator(&self, id: &str) -> Option<&Accelerator> {
        self.accelerators.iter().find(|a| a.id == id)
    }

    /// Instance by name, case-insensitively.
    pub fn instance(&self, name: &str) -> Option<&Instance> {
        self.instances
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }

    /// Price for a local device, from the `[[local]]` entries.
    pub fn local_price(&self, device_name: &str) -> Option<&LocalPrice> {
        let lower = device_name.to_lowercase();
        self.local
            .iter()
            .find(|l| lower.contains(&l.device.to_lowercase()))
    }

    fn merge(&mut self, raw: RawPricing, file: &str, complete: bool) -> Result<()> {
        for (key, text) in raw.sources {
            if text.trim().is_empty() {
                bail!(
                    "'{file}': field 'sources.{key}' is empty; expected what the key names (a URL, or a repository and path)"
                );
            }
            self.sources.insert(key, text);
        }
        if let Some(d) = raw.defaults {
            if let Some(v) = d.max_batch {
                if !(1..=1 << 16).contains(&v) {
                    bail!(
                        "'{file}': field 'defaults.max_batch' is {v}, expected a whole number of sequences between 1 and 65536"
                    );
                }
                self.max_batch = v as u64;
            } else if complete {
                bail!("'{file}': missing field 'defaults.max_batch'");
            }
            if let Some(v) = d.usable_memory_fraction {
                if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                    bail!(
                        "'{file}': field 'defaults.usable_memory_fraction' is {v}, expected a fraction in (0, 1]"
                    );
                }
                self.usable_memory_fraction = v;
            } else if complete {
                bail!("'{file}': missing field 'defaults.usable_memory_fraction'");
            }
        } else if complete {
            bail!("'{file}': missing table 'defaults'");
        }
        for (i, a) in raw.accelerator.into_iter().enumerate() {
            let at = format!("accelerator[{i}]");
            let id = a.id.clone().ok_or_else(|| {
                anyhow!("'{file}': missing field '{at}.id' (the short key instances refer to, e.g. \"h100-sxm\")")
            })?;
            match self.accelerators.iter().position(|x| x.id == id) {
                Some(k) => {
                    let merged = a.apply(Some(&self.accelerators[k]), file, &at)?;
                    self.accelerators[k] = merged;
                }
                None => {
                    let new = a.apply(None, file, &at)?;
                    self.accelerators.push(new);
                }
            }
        }
        for (i, inst) in raw.instance.into_iter().enumerate() {
            let at = format!("instance[{i}]");
            let name = inst.name.clone().ok_or_else(|| {
                anyhow!(
                    "'{file}': missing field '{at}.name' (the instance name, e.g. \"p5.48xlarge\")"
                )
            })?;
            let existing = self
                .instances
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(&name));
            let unsourced = (inst.usd_per_hour.is_some() || inst.usd_per_chip_hour.is_some())
                && inst
                    .price_source
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty());
            let merged = inst.apply(existing.map(|k| &self.instances[k]), file, &at)?;
            if self.accelerator(&merged.accelerator).is_none() {
                let known: Vec<&str> = self.accelerators.iter().map(|a| a.id.as_str()).collect();
                bail!(
                    "'{file}': field '{at}.accelerator' is '{}', which is not a known accelerator id (known: {})",
                    merged.accelerator,
                    known.join(", ")
                );
            }
            if unsourced {
                bail!(
                    "'{file}': missing field '{at}.price_source' (where the price is published, or who quoted it)"
                );
            }
            match existing {
                Some(k) => self.instances[k] = merged,
                None => self.instances.push(merged),
            }
        }
        for (i, l) in raw.local.into_iter().enumerate() {
            let at = format!("local[{i}]");
            let device = l.device.ok_or_else(|| {
                anyhow!("'{file}': missing field '{at}.device' (part of the local device's name)")
            })?;
            let usd = l
                .usd_per_hour
                .ok_or_else(|| anyhow!("'{file}': missing field '{at}.usd_per_hour'"))?;
            let usd = positive(
                usd,
                file,
                &format!("{at}.usd_per_hour"),
                "US dollars per hour",
            )?;
            self.local.push(LocalPrice {
                device,
                usd_per_hour: usd,
                price_source: l.price_source.unwrap_or_else(|| file.to_string()),
            });
        }
        Ok(())
    }
}

fn parse_raw(text: &str, file: &str) -> Result<RawPricing> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end_matches('\n').to_string();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                anyhow!("'{file}' line {line}: {msg}")
            }
            None => anyhow!("'{file}': {msg}"),
        }
    })
}

fn positive(v: f64, file: &str, field: &str, unit: &str) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        bail!("'{file}': field '{field}' is {v}, expected a positive number of {unit}")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPricing {
    defaults: Option<RawDefaults>,
    #[serde(default)]
    sources: BTreeMap<String, String>,
    #[serde(default)]
    accelerator: Vec<RawAccelerator>,
    #[serde(default)]
    instance: Vec<RawInstance>,
    #[serde(default)]
    local: Vec<RawLocal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    usable_memory_fraction: Option<f64>,
    max_batch: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccelerator {
    id: Option<String>,
    name: Option<String>,
    kind: Option<AcceleratorKind>,
    bf16_tflops: Option<f64>,
    fp8_tflops: Option<f64>,
    int8_tops: Option<f64>,
    hbm_gb: Option<f64>,
    hbm_gbps: Option<f64>,
    link_gbps: Option<f64>,
    spec_source: Option<String>,
    link_source: Option<String>,
}

impl RawAccelerator {
    fn apply(self, base: Option<&Accelerator>, file: &str, at: &str) -> Result<Accelerator> {
        let missing =
            |field: &str, what: &str| anyhow!("'{file}': missing field '{at}.{field}' ({what})");
        let num = |v: Option<f64>, b: Option<f64>, field: &str, unit: &str| -> Result<f64> {
            match v.or(b) {
                Some(x) => positive(x, file, &format!("{at}.{field}"), unit),
                None => Err(missing(field, unit)),
            }
        };
        let opt = |v: Option<f64>,
                   b: Option<Option<f64>>,
                   field: &str,
                   unit: &str|
         -> Result<Option<f64>> {
            match v {
                Some(x) => positive(x, file, &format!("{at}.{field}"), unit).map(Some),
                None => Ok(b.flatten()),
            }
        };
        let id = self.id.clone().unwrap_or_default();
        Ok(Accelerator {
            id,
            name: self
                .name
                .or_else(|| base.map(|b| b.name.clone()))
                .ok_or_else(|| missing("name", "the chip's full name"))?,
            kind: self
                .kind
                .or(base.map(|b| b.kind))
                .ok_or_else(|| missing("kind", "\"gpu\" or \"custom\""))?,
            bf16_tflops: num(
                self.bf16_tflops,
                base.map(|b| b.bf16_tflops),
                "bf16_tflops",
                "dense bf16 TFLOP/s per chip",
            )?,
            fp8_tflops: opt(
                self.fp8_tflops,
                base.map(|b| b.fp8_tflops),
                "fp8_tflops",
                "dense fp8 TFLOP/s per chip",
            )?,
            int8_tops: opt(
                self.int8_tops,
                base.map(|b| b.int8_tops),
                "int8_tops",
                "dense int8 TOP/s per chip",
            )?,
            hbm_gb: num(
                self.hbm_gb,
                base.map(|b| b.hbm_gb),
                "hbm_gb",
                "GB of memory per chip",
            )?,
            hbm_gbps: num(
                self.hbm_gbps,
                base.map(|b| b.hbm_gbps),
                "hbm_gbps",
                "GB/s of memory bandwidth per chip",
            )?,
            link_gbps: opt(
                self.link_gbps,
                base.map(|b| b.link_gbps),
                "link_gbps",
                "GB/s of chip-to-chip bandwidth",
            )?,
            spec_source: self
                .spec_source
                .or_else(|| base.map(|b| b.spec_source.clone()))
                .ok_or_else(|| {
                    missing(
                        "spec_source",
                        "where the chip's figures are published: a URL, or a repository and path",
                    )
                })?,
            link_source: self
                .link_source
                .or_else(|| base.and_then(|b| b.link_source.clone())),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    name: Option<String>,
    provider: Option<String>,
    accelerator: Option<String>,
    chips: Option<i64>,
    usd_per_hour: Option<f64>,
    usd_per_chip_hour: Option<f64>,
    region: Option<String>,
    price_date: Option<String>,
    price_source: Option<String>,
}

impl RawInstance {
    fn apply(self, base: Option<&Instance>, file: &str, at: &str) -> Result<Instance> {
        let missing =
            |field: &str, what: &str| anyhow!("'{file}': missing field '{at}.{field}' ({what})");
        let price = match (self.usd_per_hour, self.usd_per_chip_hour) {
            (Some(_), Some(_)) => bail!(
                "'{file}': fields '{at}.usd_per_hour' and '{at}.usd_per_chip_hour' are both set; expected one of them"
            ),
            (Some(p), None) => Price::PerHour(positive(
                p,
                file,
                &format!("{at}.usd_per_hour"),
                "US dollars per hour",
            )?),
            (None, Some(p)) => Price::PerChipHour(positive(
                p,
                file,
                &format!("{at}.usd_per_chip_hour"),
                "US dollars per chip-hour",
            )?),
            (None, None) => base.map(|b| b.price).unwrap_or(Price::Unknown),
        };
        let price_given = self.usd_per_hour.is_some() || self.usd_per_chip_hour.is_some();
        let chips = match self.chips {
            Some(c) if c >= 1 => c as u64,
            Some(c) => bail!(
                "'{file}': field '{at}.chips' is {c}, expected a whole number of chips, at least 1"
            ),
            None => base.map(|b| b.chips).ok_or_else(|| {
                missing("chips", "the number of accelerator chips in the instance")
            })?,
        };
        let text = |v: Option<String>, b: Option<&String>, fallback: &str| {
            v.or_else(|| b.cloned())
                .unwrap_or_else(|| fallback.to_string())
        };
        // A user price without its own source is attributed to the user's file.
        let (date_fallback, source_fallback) = if price_given {
            ("not given".to_string(), file.to_string())
        } else {
            ("n/a".to_string(), "no price".to_string())
        };
        Ok(Instance {
            name: self.name.unwrap_or_default(),
            provider: text(self.provider, base.map(|b| &b.provider), "unknown"),
            accelerator: self
                .accelerator
                .or_else(|| base.map(|b| b.accelerator.clone()))
                .ok_or_else(|| {
                    missing(
                        "accelerator",
                        "the id of an accelerator in the table, e.g. \"h100-sxm\"",
                    )
                })?,
            chips,
            price,
            region: text(self.region, base.map(|b| &b.region), "unknown"),
            price_date: match self.price_date {
                Some(d) => d,
                None if price_given => date_fallback,
                None => base.map(|b| b.price_date.clone()).unwrap_or(date_fallback),
            },
            price_source: match self.price_source {
                Some(s) => s,
                None if price_given => source_fallback,
                None => base
                    .map(|b| b.price_source.clone())
                    .unwrap_or(source_fallback),
            },
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocal {
    device: Option<String>,
    usd_per_hour: Option<f64>,
    price_source: Option<String>,
}
