//! `orders.v1.CatalogService`.

use tonic::{Request, Response, Status};

use futures_util::FutureExt;
use prost::Message;

use crate::{
    actions::{AppState, Call, catalog, detached, product_changes, search},
    db::idempotency::{self, IdempotentRequest},
    domain::{
        product::{NewProduct, Restock},
        product_change::{ArchiveChange, ProductUpdate},
        reads::{ProductPage, parse_id},
        search::SearchPage,
    },
    error::ApiError,
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

    /// ArchiveProduct and UnarchiveProduct: the same change towards either
    /// side, answered by `respond` in that RPC's response.
    async fn change_archive<Req, Res>(
        &self,
        request: Request<Req>,
        respond: fn(proto::Product) -> Res,
    ) -> Result<Response<Res>, Status>
    where
        Req: IdempotentRequest,
        for<'r> ArchiveChange: TryFrom<&'r Req, Error = ApiError>,
        Res: Message + Default + Clone + Send + 'static,
    {
        let call = Call::new(&self.state, &request)?;
        let request = request.into_inner();
        let change = ArchiveChange::try_from(&request)?;
        let key = idempotency::key(change.request_id, request);
        let response = detached((call, change, key), move |(call, change, key)| {
            product_changes::change_archive(call, change, key.as_ref(), respond).boxed()
        });
        Ok(Response::new(response.await?))
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
        let key = idempotency::key(product.request_id, request);
        let response = detached((call, product, key), |(call, product, key)| {
            catalog::create_product(call, product, key.as_ref()).boxed()
        });
        Ok(Response::new(response.await?))
    }

    async fn get_product(
        &self,
        request: Request<proto::GetProductRequest>,
    ) -> Result<Response<proto::GetProductResponse>, Status> {
        let id = parse_id("product_id", &request.get_ref().product_id)?;
        let call = Call::new(&self.state, &request)?;
        let response = detached((call, id), |(call, id)| catalog::get_product(call, *id).boxed());
        Ok(Response::new(response.await?))
    }

    async fn list_products(
        &self,
        request: Request<proto::ListProductsRequest>,
    ) -> Result<Response<proto::ListProductsResponse>, Status> {
        let page = ProductPage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        let response = detached((call, page), |(call, page)| catalog::list_products(call, page).boxed());
        Ok(Response::new(response.await?))
    }

    async fn restock_product(
        &self,
        request: Request<proto::RestockProductRequest>,
    ) -> Result<Response<proto::RestockProductResponse>, Status> {
        let call = Call::new(&self.state, &request)?;
        let request = request.into_inner();
        let restock = Restock::try_from(&request)?;
        let key = idempotency::key(restock.request_id, request);
        let response = detached((call, restock, key), |(call, restock, key)| {
            catalog::restock(call, restock, key.as_ref()).boxed()
        });
        Ok(Response::new(response.await?))
    }

    async fn search_products(
        &self,
        request: Request<proto::SearchProductsRequest>,
    ) -> Result<Response<proto::SearchProductsResponse>, Status> {
        let page = SearchPage::parse(request.get_ref(), &self.state.page_key)?;
        let call = Call::new(&self.state, &request)?;
        let response = detached((call, page), |(call, page)| search::search_products(call, page).boxed());
        Ok(Response::new(response.await?))
    }

    async fn update_product(
        &self,
        request: Request<proto::UpdateProductRequest>,
    ) -> Result<Response<proto::UpdateProductResponse>, Status> {
        let call = Call::new(&self.state, &request)?;
        let request = request.into_inner();
        let update = ProductUpdate::try_from(&request)?;
        let key = idempotency::key(update.request_id, request);
        let response = detached((call, update, key), |(call, update, key)| {
            product_changes::update_product(call, update, key.as_ref()).boxed()
        });
        Ok(Response::new(response.await?))
    }

    async fn archive_product(
        &self,
        request: Request<proto::ArchiveProductRequest>,
    ) -> Result<Response<proto::ArchiveProductResponse>, Status> {
        self.change_archive(request, |product| proto::ArchiveProductResponse {
            product: Some(product),
        })
        .await
    }

    async fn unarchive_product(
        &self,
        request: Request<proto::UnarchiveProductRequest>,
    ) -> Result<Response<proto::UnarchiveProductResponse>, Status> {
        self.change_archive(request, |product| proto::UnarchiveProductResponse {
            product: Some(product),
        })
        .await
    }
}
