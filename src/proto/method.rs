//! The RPCs of the API as a Rust enum: the one list of methods that the
//! access policy ([`crate::auth::policy`]), request validation
//! ([`crate::domain::request`]) and the fuzz target share. It lives with
//! the generated code because it is a fact of the protocol: a test checks
//! it against the descriptors compiled from `proto/`.

/// Every RPC of `orders.v1.OrderService`, `orders.v1.CatalogService`,
/// `orders.v1.AuditService` and `payments.v1.PaymentService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    CreateOrder,
    GetOrder,
    GetOrderHistory,
    CancelOrder,
    ShipOrder,
    ListOrders,
    CreateProduct,
    GetProduct,
    ListProducts,
    RestockProduct,
    SearchProducts,
    UpdateProduct,
    ArchiveProduct,
    UnarchiveProduct,
    ListAuditEvents,
    AuthorizePayment,
    CapturePayment,
    CancelPayment,
    RefundPayment,
    GetPayment,
    ListPayments,
}

impl Method {
    /// All methods, in a fixed order (the fuzz target picks by index).
    pub const ALL: [Method; 21] = [
        Method::CreateOrder,
        Method::GetOrder,
        Method::GetOrderHistory,
        Method::CancelOrder,
        Method::ShipOrder,
        Method::ListOrders,
        Method::CreateProduct,
        Method::GetProduct,
        Method::ListProducts,
        Method::RestockProduct,
        Method::SearchProducts,
        Method::UpdateProduct,
        Method::ArchiveProduct,
        Method::UnarchiveProduct,
        Method::ListAuditEvents,
        Method::AuthorizePayment,
        Method::CapturePayment,
        Method::CancelPayment,
        Method::RefundPayment,
        Method::GetPayment,
        Method::ListPayments,
    ];

    /// The full gRPC path, e.g. `/orders.v1.OrderService/CreateOrder`.
    pub fn path(self) -> &'static str {
        match self {
            Method::CreateOrder => "/orders.v1.OrderService/CreateOrder",
            Method::GetOrder => "/orders.v1.OrderService/GetOrder",
            Method::GetOrderHistory => "/orders.v1.OrderService/GetOrderHistory",
            Method::CancelOrder => "/orders.v1.OrderService/CancelOrder",
            Method::ShipOrder => "/orders.v1.OrderService/ShipOrder",
            Method::ListOrders => "/orders.v1.OrderService/ListOrders",
            Method::CreateProduct => "/orders.v1.CatalogService/CreateProduct",
            Method::GetProduct => "/orders.v1.CatalogService/GetProduct",
            Method::ListProducts => "/orders.v1.CatalogService/ListProducts",
            Method::RestockProduct => "/orders.v1.CatalogService/RestockProduct",
            Method::SearchProducts => "/orders.v1.CatalogService/SearchProducts",
            Method::UpdateProduct => "/orders.v1.CatalogService/UpdateProduct",
            Method::ArchiveProduct => "/orders.v1.CatalogService/ArchiveProduct",
            Method::UnarchiveProduct => "/orders.v1.CatalogService/UnarchiveProduct",
            Method::ListAuditEvents => "/orders.v1.AuditService/ListAuditEvents",
            Method::AuthorizePayment => "/payments.v1.PaymentService/AuthorizePayment",
            Method::CapturePayment => "/payments.v1.PaymentService/CapturePayment",
            Method::CancelPayment => "/payments.v1.PaymentService/CancelPayment",
            Method::RefundPayment => "/payments.v1.PaymentService/RefundPayment",
            Method::GetPayment => "/payments.v1.PaymentService/GetPayment",
            Method::ListPayments => "/payments.v1.PaymentService/ListPayments",
        }
    }

    /// The method's name, the last part of its path (`CreateOrder`).
    pub fn name(self) -> &'static str {
        let path = self.path();
        &path[path.rfind('/').map_or(0, |slash| slash + 1)..]
    }

    /// The method with this full gRPC path, if the API has one.
    pub fn from_path(path: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.path() == path)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;
    use prost_types::FileDescriptorSet;

    use super::*;

    #[test]
    fn every_rpc_of_the_api_has_a_method_and_paths_round_trip() {
        let set = FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET).expect("the descriptor set decodes");
        let ours_packages = ["orders.v1", "payments.v1"];
        let api: BTreeSet<String> = (set.file.iter().filter(|f| ours_packages.contains(&f.package())))
            .flat_map(|file| file.service.iter().map(move |service| (file.package(), service)))
            .flat_map(|(package, service)| {
                service
                    .method
                    .iter()
                    .map(move |m| format!("/{package}.{}/{}", service.name(), m.name()))
            })
            .collect();
        let ours: BTreeSet<String> = Method::ALL.iter().map(|m| m.path().to_owned()).collect();
        assert_eq!(ours, api);
        for method in Method::ALL {
            assert_eq!(Method::from_path(method.path()), Some(method));
        }
        assert_eq!(Method::from_path("/orders.v1.OrderService/DropOrders"), None);
    }
}
