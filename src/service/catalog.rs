//! `orders.v1.CatalogService`.

use tonic::{Request, Response, Status};

use crate::{
    actions::{AppState, Call, catalog, detached, idempotent},
    db::retry::retry_transient,
    domain::{
        product::{NewProduct, Restock},
        query::{ProductPage, parse_id},
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
        let call = Call::new(&self.state, &request)?;
        let request = request.into_inner();
        let product = NewProduct::try_from(&request)?;
        let content = proto::CreateProductRequest {
            request_id: String::new(),
            ..request
        };
        let key = idempotent::key("CreateProduct".to_owned(), product.request_id, &content);
        let response =
            detached(async move { retry_transient(|| catalog::create_product(&call, &product, key.as_ref())).await })
                .await?;
        Ok(Response::new(response))
    }

    async fn get_product(
        &self,
        request: Request<proto::GetProductRequest>,
    ) -> Result<Response<proto::GetProductResponse>, Status> {
        let id = parse_id("product_id", &request.get_ref().product_id)?;
        let call = Call::new(&self.state, &request)?;
        Ok(Response::new(
            detached(async move { catalog::get_product(&call, id).await }).await?,
        ))
    }

    async fn list_products(
        &self,
        request: Request<proto::ListProductsRequest>,
    ) -> Result<Response<proto::ListProductsResponse>, Status> {
        let page = ProductPage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        Ok(Response::new(
            detached(async move { catalog::list_products(&call, &page).await }).await?,
        ))
    }

    async fn restock_product(
        &self,
        request: Request<proto::RestockProductRequest>,
    ) -> Result<Response<proto::RestockProductResponse>, Status> {
        let call = Call::new(&self.state, &request)?;
        let request = request.into_inner();
        let restock = Restock::try_from(&request)?;
        let content = proto::RestockProductRequest {
            request_id: String::new(),
            ..request
        };
        let key = idempotent::key("RestockProduct".to_owned(), restock.request_id, &content);
        let response =
            detached(async move { retry_transient(|| catalog::restock(&call, &restock, key.as_ref())).await }).await?;
        Ok(Response::new(response))
    }
}
