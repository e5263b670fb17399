use chrono::Utc;
use serde_json::json;

use super::*;
use crate::domain::entity_state::Summary;
use crate::domain::ids::StoreId;
use crate::domain::subscription::EntityType;

fn customer(n: u8) -> CustomerId {
    CustomerId::from_bytes([n; 12])
}

fn state(entity_type: EntityType, id: &str, summary: Summary, customer_id: Option<CustomerId>) -> EntityState {
    EntityState {
        store_id: StoreId::from_bytes([9; 12]),
        entity_type,
        entity_id: id.into(),
        state: json!({}),
        summary,
        customer_id,
        version: 1,
        updated_at: Utc::now(),
    }
}

fn view(product: &str, who: u8, out_of_stock: bool) -> ProductView {
    ProductView {
        store_id: StoreId::from_bytes([9; 12]),
        product_id: product.into(),
        customer_id: customer(who),
        last_viewed_at: Utc::now(),
        views: 1,
        in_stock: Some(!out_of_stock),
        out_of_stock_viewed_at: out_of_stock.then(Utc::now),
        price: None,
        currency: None,
    }
}

#[test]
fn when_a_product_is_back_in_stock_should_reach_who_saw_it_out_of_stock_or_wished_for_it() {
    let back = Summary {
        product_id: Some("P1".into()),
        in_stock: Some(true),
        back_in_stock_at: Some(Utc::now()),
        ..Summary::default()
    };
    let still_out = Summary {
        product_id: Some("P2".into()),
        in_stock: Some(false),
        ..Summary::default()
    };
    let wishlist = Summary {
        items: vec!["P1".into(), "P2".into()],
        ..Summary::default()
    };
    let activity = Activity {
        products: vec![
            state(EntityType::InventoryLevel, "P1", back, None),
            state(EntityType::InventoryLevel, "P2", still_out, None),
        ],
        viewers: HashMap::from([
            ("P1".to_owned(), vec![view("P1", 1, true), view("P1", 2, false)]),
            ("P2".to_owned(), vec![view("P2", 4, true)]),
        ]),
        wishlists: vec![state(EntityType::Wishlist, "w", wishlist, Some(customer(3)))],
        ..Activity::default()
    };
    let got = audience(Notification::BackInStock, &activity, -1);
    let expected = BTreeMap::from([
        (customer(1), vec!["P1".to_owned()]),
        (customer(3), vec!["P1".to_owned()]),
    ]);
    assert_eq!(got, expected, "2 saw it in stock; 4 waits for P2, still out");
}

#[test]
fn when_wishlists_are_long_should_cap_the_items() {
    let wishlist = Summary {
        items: vec!["A".into(), "B".into(), "C".into()],
        ..Summary::default()
    };
    let activity = Activity {
        wishlists: vec![state(EntityType::Wishlist, "w", wishlist, Some(customer(1)))],
        ..Activity::default()
    };
    assert_eq!(
        audience(Notification::WishlistReminder, &activity, 2)[&customer(1)],
        ["A", "B"]
    );
    assert_eq!(
        audience(Notification::WishlistReminder, &activity, -1)[&customer(1)].len(),
        3
    );
}
