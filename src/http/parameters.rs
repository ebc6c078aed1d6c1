//! `GET /clusters/parameters`: the catalog as the API shows it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::error::ApiResult;
use super::extract::Caller;
use super::AppState;
use crate::catalog::Generation;
use crate::domain::scope::Scope;

pub fn routes() -> Router<AppState> {
    Router::new().route("/clusters/parameters", get(get_parameters))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParametersResponse {
    pub channels: Vec<ChannelDto>,
    pub cluster_plan_types: Vec<NamedDto>,
    pub regions: Vec<RegionDto>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelDto {
    pub uuid: String,
    pub name: String,
    pub allowed_generations: Vec<NamedDto>,
    pub default_generation: NamedDto,
}

#[derive(Debug, Serialize, Clone)]
pub struct NamedDto {
    pub uuid: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct RegionDto {
    pub uuid: String,
    pub name: String,
    pub provider: String,
}

impl From<&Generation> for NamedDto {
    fn from(g: &Generation) -> Self {
        NamedDto {
            uuid: g.id.clone(),
            name: g.name.clone(),
        }
    }
}

async fn get_parameters(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ParametersResponse>> {
    caller.require(Scope::GetClusters)?;
    let catalog = &state.catalog;
    Ok(Json(ParametersResponse {
        channels: catalog
            .channels
            .iter()
            .map(|c| ChannelDto {
                uuid: c.id.clone(),
                name: c.name.clone(),
                allowed_generations: c.generations.iter().map(NamedDto::from).collect(),
                default_generation: c.default_generation().into(),
            })
            .collect(),
        cluster_plan_types: catalog
            .plan_types
            .iter()
            .map(|p| NamedDto {
                uuid: p.id.clone(),
                name: p.name.clone(),
            })
            .collect(),
        regions: catalog
            .regions
            .iter()
            .map(|r| RegionDto {
                uuid: r.id.clone(),
                name: r.name.clone(),
                provider: r.provider.clone(),
            })
            .collect(),
    }))
}
