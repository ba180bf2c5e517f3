//! Audit of a typical 200 KB page (target: under 20 ms).
//!
//! `cargo bench -p registre-audit`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// A WordPress-like page of about 200 KB: navigation, inline scripts and styles, a long
/// article, comments, a search box, a newsletter box and a contact form, a footer notice.
pub fn typical_page() -> String {
    let mut html = String::from(
        r#"<!DOCTYPE html><html lang="fr-FR"><head><meta charset="UTF-8"><title>Blog – Exemple</title>
<style>body{font-family:sans-serif}.site-header{display:flex}.menu li{display:inline-block;margin:0 1em}</style>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"BlogPosting","headline":"Exemple"}</script>
</head><body class="post-template-default single"><header class="site-header"><nav><ul class="menu">"#,
    );
    for i in 0..60 {
        html.push_str(&format!(
            r#"<li class="menu-item menu-item-{i}"><a href="/rubrique-{i}/">Rubrique {i}</a></li>"#
        ));
    }
    html.push_str(r#"</ul></nav><form role="search" action="/" method="get"><input type="search" name="s" placeholder="Rechercher"><button>OK</button></form></header><main><article><h1>Comment bien choisir son vélo</h1>"#);
    let mut paragraph = 0;
    while html.len() < 150_000 {
        paragraph += 1;
        html.push_str(&format!(
            r#"<h2 id="partie-{paragraph}">Partie {paragraph}</h2><p>Le cadre, la transmission et les freins sont les trois éléments à examiner avant tout achat. <strong>Un vélo trop grand</strong> fatigue le dos ; un vélo trop petit use les genoux. Prenez le temps d'essayer plusieurs tailles, et n'hésitez pas à demander conseil en magasin. <a href="/guide/{paragraph}">Lire la suite du guide</a>.</p><ul><li>Cadre aluminium ou acier</li><li>Freins à disque</li><li>Transmission 1x11</li></ul><script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"event":"section","id":{paragraph}}});</script>"#
        ));
    }
    html.push_str(r#"</article><aside><section class="widget"><h3>Newsletter</h3><form action="https://exemple.fr/newsletter" method="post"><input type="email" name="email" aria-label="E-mail" required><label><input type="checkbox" name="offres" checked> Je souhaite recevoir les offres des partenaires</label><button>S'inscrire</button></form></section></aside>"#);
    html.push_str(r#"<div id="comments"><form action="https://exemple.fr/wp-comments-post.php" method="post" id="commentform"><p><label for="comment">Commentaire</label><textarea id="comment" name="comment" required></textarea></p><p><label for="author">Nom</label><input id="author" name="author" required></p><p><label for="email">E-mail</label><input id="email" name="email" type="email" required></p><p><input id="wp-comment-cookies-consent" name="wp-comment-cookies-consent" type="checkbox" value="yes"><label for="wp-comment-cookies-consent">Enregistrer mon nom dans le navigateur.</label></p><input type="submit" value="Envoyer"></form></div>"#);
    while html.len() < 195_000 {
        html.push_str(r#"<div class="comment"><p class="author">Jeanne</p><p>Merci pour cet article très complet, j'ai trouvé mon bonheur !</p></div>"#);
    }
    html.push_str(r#"</main><footer><p>Exemple SAS utilise vos données pour répondre à vos commentaires et vous envoyer la lettre d'information. Elles sont conservées 3 ans. Vous disposez d'un droit d'accès, de rectification et d'opposition : dpo@exemple.fr.</p><p><a href="/politique-de-confidentialite/">Politique de confidentialité</a></p></footer></body></html>"#);
    html
}

fn bench_audit(c: &mut Criterion) {
    let html = typical_page();
    assert!(
        (190_000..=230_000).contains(&html.len()),
        "page is {} bytes",
        html.len()
    );
    let report = registre_audit::audit_html(&html).unwrap();
    assert_eq!(report.forms.len(), 3);
    c.bench_function("audit_html 200 KB page", |b| {
        b.iter(|| registre_audit::audit_html(black_box(&html)).unwrap())
    });
}

criterion_group!(benches, bench_audit);
criterion_main!(benches);
