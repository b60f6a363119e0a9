//! `orders.v1.CatalogService`.

use tonic::{Request, Response, Status};

use super::parse_id;
use crate::{
    actions::{AppState, catalog, detached, idempotent},
    db::retry::retry_transient,
    domain::{
        page::{self, Listing, ProductCursor},
        product::{NewProduct, Restock},
        violations::Violations,
    },
    proto::{self, catalog_service_server::CatalogService},
};

/// The catalog service over the shared [`AppState`].
#[derive(Debug, Clone)]
pub struct CatalogApi {
    state: AppState,
}

impl CatalogApi {
    pub fn new(state: AppState) -> Self {
        CatalogApi { state }
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn create_product(
        &self,
        request: Request<proto::CreateProductRequest>,
    ) -> Result<Response<proto::CreateProductResponse>, Status> {
        let request = request.into_inner();
        let product = NewProduct::try_from(&request)?;
        let content = proto::CreateProductRequest {
            request_id: String::new(),
            ..request
        };
        let key = idempotent::key("CreateProduct".to_owned(), product.request_id, &content);
        let state = self.state.clone();
        let response =
            detached(async move { retry_transient(|| catalog::create_product(&state, &product, key.as_ref())).await })
                .await?;
        Ok(Response::new(response))
    }

    async fn get_product(
        &self,
        request: Request<proto::GetProductRequest>,
    ) -> Result<Response<proto::GetProductResponse>, Status> {
        let id = parse_id("product_id", &request.get_ref().product_id)?;
        Ok(Response::new(catalog::get_product(&self.state, id).await?))
    }

    async fn list_products(
        &self,
        request: Request<proto::ListProductsRequest>,
    ) -> Result<Response<proto::ListProductsResponse>, Status> {
        let request = request.get_ref();
        let mut v = Violations::default();
        let page_size = v.check("page_size", page::page_size(request.page_size));
        let cursor = v.check(
            "page_token",
            self.state
                .page_key
                .open::<ProductCursor>(Listing::Products, &request.page_token),
        );
        let (page_size, cursor) = v.finish(page_size.zip(cursor))?;
        Ok(Response::new(
            catalog::list_products(&self.state, page_size, cursor).await?,
        ))
    }

    async fn restock_product(
        &self,
        request: Request<proto::RestockProductRequest>,
    ) -> Result<Response<proto::RestockProductResponse>, Status> {
        let request = request.into_inner();
        let restock = Restock::try_from(&request)?;
        let content = proto::RestockProductRequest {
            request_id: String::new(),
            ..request
        };
        let key = idempotent::key("RestockProduct".to_owned(), restock.request_id, &content);
        let state = self.state.clone();
        let response =
            detached(async move { retry_transient(|| catalog::restock(&state, &restock, key.as_ref())).await }).await?;
        Ok(Response::new(response))
    }
}
