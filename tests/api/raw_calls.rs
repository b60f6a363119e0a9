//! Calls with raw bytes as the request message, past the generated clients.
//!
//! Here for the tests of what no generated client would send: garbage,
//! invalid UTF-8, messages spliced by hand, bodies over the size limit.

use prost::bytes::{Buf, BufMut};
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
};

use crate::app::TestApp;

/// A codec that passes message bodies through as bytes, so that a test can
/// send what no generated client would: garbage, invalid UTF-8, messages
/// spliced by hand.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Calls the method at `path` (e.g. `/orders.v1.OrderService/GetOrder`)
/// with `body` as the bytes of the request message, on a connection of its
/// own; returns the bytes of the response message.
pub async fn call_raw(app: &TestApp, path: &str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("the channel is ready");
    let path = PathAndQuery::try_from(path).expect("a method path");
    let response = grpc.unary(tonic::Request::new(body), path, RawCodec).await?;
    Ok(response.into_inner())
}
