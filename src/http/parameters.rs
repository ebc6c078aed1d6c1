//! `GET /clusters/parameters`: the catalog as the API shows it.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Caller;
use super::schema::tags;
use super::AppState;
use crate::catalog::Generation;
use crate::domain::scope::Scope;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_parameters))
}

/// Describes the different options to create a Camunda cluster.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Parameters)]
pub struct ParametersResponse {
    pub channels: Vec<ChannelDto>,
    pub cluster_plan_types: Vec<NamedDto>,
    pub regions: Vec<RegionDto>,
}

/// A software channel and the generations a cluster on it may run.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Channel)]
pub struct ChannelDto {
    pub uuid: String,
    pub name: String,
    pub allowed_generations: Vec<NamedDto>,
    pub default_generation: NamedDto,
}

/// A catalog entry (plan type, channel, generation or region): its id and its name.
#[derive(Debug, Serialize, Clone, ToSchema)]
#[schema(as = NamedEntity)]
pub struct NamedDto {
    pub uuid: String,
    pub name: String,
}

/// A data center a cluster can run in.
#[derive(Serialize, ToSchema)]
#[schema(as = Region)]
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

/// Get all possible options to create a Camunda cluster.
#[utoipa::path(
    get,
    path = "/clusters/parameters",
    operation_id = "GetParameters",
    tag = tags::CLUSTERS,
    security(("bearer" = ["get:clusters"])),
    responses(
        (status = 200, description = "Ok", body = ParametersResponse),
        (status = 403, description = "The token lacks the scope get:clusters"),
    ),
)]
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
