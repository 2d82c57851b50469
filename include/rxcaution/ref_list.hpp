#pragma once
/// @file ref_list.hpp
/// A list of references into a knowledge base: what queries return instead of copies.

#include <cstddef>
#include <iterator>
#include <vector>

namespace rxcaution {

/// An ordered list of references to entities owned by a KnowledgeBase. Cheap to return (one
/// pointer per element); valid as long as a copy of that KnowledgeBase exists. Indexing and
/// iteration give `const T&`.
template <class T>
class RefList {
public:
    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using pointer = const T*;
        using reference = const T&;
        iterator() = default;
        explicit iterator(typename std::vector<const T*>::const_iterator it) : it_(it) {}
        reference operator*() const { return **it_; }
        pointer operator->() const { return *it_; }
        reference operator[](difference_type n) const { return *it_[n]; }
        iterator& operator++() { ++it_; return *this; }
        iterator operator++(int) { iterator t = *this; ++it_; return t; }
        iterator& operator--() { --it_; return *this; }
        iterator operator--(int) { iterator t = *this; --it_; return t; }
        iterator& operator+=(difference_type n) { it_ += n; return *this; }
        iterator& operator-=(difference_type n) { it_ -= n; return *this; }
        friend iterator operator+(iterator a, difference_type n) { return a += n; }
        friend iterator operator+(difference_type n, iterator a) { return a += n; }
        friend iterator operator-(iterator a, difference_type n) { return a -= n; }
        friend difference_type operator-(const iterator& a, const iterator& b) { return a.it_ - b.it_; }
        friend bool operator==(const iterator& a, const iterator& b) { return a.it_ == b.it_; }
        friend auto operator<=>(const iterator& a, const iterator& b) { return a.it_ <=> b.it_; }

    private:
        typename std::vector<const T*>::const_iterator it_;
    };
    using const_iterator = iterator;
    using value_type = T;
    using size_type = std::size_t;

    RefList() = default;
    explicit RefList(std::vector<const T*> items) : items_(std::move(items)) {}

    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
    /// @return the i-th element; undefined for i >= size() (use at()).
    const T& operator[](std::size_t i) const { return *items_[i]; }
    /// @throws std::out_of_range for i >= size().
    const T& at(std::size_t i) const { return *items_.at(i); }
    const T& front() const { return *items_.front(); }
    const T& back() const { return *items_.back(); }
    [[nodiscard]] iterator begin() const { return iterator(items_.begin()); }
    [[nodiscard]] iterator end() const { return iterator(items_.end()); }
    /// The underlying pointers.
    [[nodiscard]] const std::vector<const T*>& pointers() const noexcept { return items_; }

private:
    std::vector<const T*> items_;
};

}  // namespace rxcaution
