//! Building the service: configuration it refuses, what it prints.

use super::super::ProtocolSetupError;
use super::*;

fn config_with(node: &Node, change: impl FnOnce(&mut SageConfig)) -> Arc<SageConfig> {
    let mut config = (*node.deps.config).clone();
    change(&mut config);
    Arc::new(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_configuration_is_refused_at_setup() {
    let node = Node::start().await;
    let refused = |deps: ProtocolDeps| MessageService::new(deps).unwrap_err();

    let config = config_with(&node, |c| c.server.body_limit = sage_config::ByteSize(0));
    assert!(matches!(
        refused(node.deps_with(|d| d.config = config)),
        ProtocolSetupError::BodyLimit(0)
    ));
    let config = config_with(&node, |c| {
        c.server.body_limit = sage_config::ByteSize(1 << 30)
    });
    assert!(matches!(
        refused(node.deps_with(|d| d.config = config)),
        ProtocolSetupError::BodyLimit(_)
    ));
    let config = config_with(&node, |c| {
        c.rfc9421.required_components.push("@nonsense".into());
    });
    assert!(matches!(
        refused(node.deps_with(|d| d.config = config)),
        ProtocolSetupError::RequiredComponent(name) if name == "@nonsense"
    ));
    let config = config_with(&node, |c| c.handshake.allowed_suites = vec!["other".into()]);
    assert!(matches!(
        refused(node.deps_with(|d| d.config = config)),
        ProtocolSetupError::NoAllowedSuite
    ));
    let error =
        refused(node.deps_with(|d| d.upstream = Some("https://up.example/".parse().unwrap())));
    assert!(matches!(error, ProtocolSetupError::Upstream));
    assert!(!error.to_string().is_empty());
    let error = refused(node.deps_with(|d| d.public_url = Some("/relative".parse().unwrap())));
    assert!(matches!(error, ProtocolSetupError::PublicUrl));

    // Names and serialised identifiers are both accepted.
    let config = config_with(&node, |c| {
        c.rfc9421.required_components = vec![
            "@method".into(),
            "\"@authority\"".into(),
            "content-type".into(),
        ];
    });
    MessageService::new(node.deps_with(|d| d.config = config)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_output_names_the_node_and_no_secret() {
    let node = Node::start().await;
    let service = MessageService::new(node.deps_with(|_| {})).unwrap();
    let printed = format!("{service:?}");
    assert!(printed.contains(node.did.as_str()));
    let signing = sage_core::encoding::hex_encode(&node.deps.identity.signing_key().to_bytes()[..]);
    let kem = sage_core::encoding::hex_encode(&node.deps.identity.kem_secret().to_bytes()[..]);
    assert!(!printed.to_lowercase().contains(&signing));
    assert!(!printed.to_lowercase().contains(&kem));
    let deps = format!("{:?}", node.deps_with(|_| {}));
    assert!(!deps.to_lowercase().contains(&signing));
}

#[tokio::test(flavor = "multi_thread")]
async fn public_url_is_the_authority_clients_sign_for() {
    let node = Node::start().await;
    let service = MessageService::new(node.deps_with(|d| {
        d.public_url = Some("https://agents.example".parse().unwrap());
    }))
    .unwrap();
    let (base, server) = serve(service).await;
    let peer = Peer::registered(&node, "setup-public-url").await;
    let (expect, message) = peer.init(None);
    // Signed for the public name, delivered to the local port.
    let mut request = peer.http_request_to("https://agents.example/messages", &message, true);
    request.target_uri = format!("{base}/messages");
    let answer = peer.send(&request).await;
    let wire = answer.wire();
    assert!(wire.success, "{}", wire.error);
    expect
        .handle(&wire, &node.verifying_key, node.now())
        .unwrap();
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_documents_both_endpoints_with_examples() {
    let node = Node::start().await;
    let service = MessageService::new(node.deps_with(|_| {})).unwrap();
    let (_, openapi) = routes(Arc::new(service)).split_for_parts();
    let json = serde_json::to_value(&openapi).unwrap();
    let post = &json["paths"]["/messages"]["post"];
    assert_eq!(post["tags"][0], "protocol");
    assert!(post["requestBody"]["content"]["application/json"]["example"].is_object());
    for status in ["200", "400", "401", "413", "502", "503"] {
        assert!(
            post["responses"][status]["content"]["application/json"]["example"].is_object(),
            "{status}"
        );
    }
    let cookie = &json["paths"]["/handshake/cookie"]["get"];
    assert_eq!(cookie["tags"][0], "protocol");
    assert!(
        cookie["responses"]["200"]["content"]["application/json"]["example"]["cookie"].is_string()
    );
    for schema in ["WireMessageDoc", "WireResponseDoc", "HandshakeCookie"] {
        assert!(
            json["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}
